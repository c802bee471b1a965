# bash completion for mlops                                -*- shell-script -*-
#
# Installed as "mlops" in bash-completion's folder, or loaded with
#   source <(mlops completion bash)
#
# Asks the binary itself (the hidden, read-only `mlops __complete`) for
# command names, each command's options, and the model references and
# stages in the repository, so nothing here repeats an option list.
# Works without the bash-completion package.

# Run the mlops being completed (as typed: ./mlops works), quietly, in the
# folder and repository that -C on the command line selects.
_mlops_ask() {
	local prog=${_mlops_words[0]/#\~/$HOME}
	"$prog" "${_mlops_global[@]}" __complete "$@" 2>/dev/null
}

# Rebuild the words of the line as the shell will pass them: bash splits
# COMP_WORDS at COMP_WORDBREAKS (= and : among them), which would cut
# "--data=x" and "churn:2" apart.  A piece that follows its predecessor
# without blanks in COMP_LINE is glued back onto it.
_mlops_reassemble() {
	local i pos=0 word glue
	_mlops_words=()
	for ((i = 0; i <= COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		glue=1
		while [[ $pos -lt ${#COMP_LINE} && ${COMP_LINE:pos:1} == [[:space:]] ]]; do
			((pos++))
			glue=0
		done
		if [[ $i -eq 0 || $glue -eq 0 || ${#_mlops_words[@]} -eq 0 ]]; then
			_mlops_words+=("$word")
		else
			_mlops_words[${#_mlops_words[@]} - 1]+=$word
		fi
		((pos += ${#word}))
	done
}

# Append the lines of standard input to COMPREPLY.
_mlops_add() {
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY
}

# Offer words ($1, newline-separated) matching the current word $2.
_mlops_offer() {
	local IFS=$'\n'
	_mlops_add < <(compgen -W "$1" -- "$2" | awk '!seen[$0]++')
}

_mlops_files() {
	_mlops_add < <(compgen -f -- "$1")
	compopt -o filenames 2>/dev/null
}

_mlops_dirs() {
	_mlops_add < <(compgen -d -- "$1")
	compopt -o filenames 2>/dev/null
}

# Candidates for the value of option $1 (e.g. --data), current text $2.
_mlops_value() {
	local opt=$1 cur=$2 model
	case $opt in
	--model)
		if [[ $cmd == runs ]]; then
			_mlops_offer "$(_mlops_ask models)" "$cur"
		else
			_mlops_offer $'auto\nlogistic\nsoftmax\nlinear\nridge' "$cur"
		fi ;;
	--kind)
		_mlops_offer $'train\nvalidate\nscore-batch\ndrift' "$cur" ;;
	--method)
		_mlops_offer $'auto\npsi\nks\nchi2\njs\nwasserstein' "$cur" ;;
	--delimiter|--reference-delimiter)
		_mlops_offer $',\n;\ntab\n|' "$cur" ;;
	--encoding)
		_mlops_offer $'utf-8\nlatin1' "$cur" ;;
	--color)
		_mlops_offer $'auto\nalways\nnever' "$cur" ;;
	--against)
		_mlops_offer "$(_mlops_ask refs)" "$cur"
		_mlops_files "$cur" ;;
	--to)
		# The model named by the first operand (NAME:N), for its stages.
		model=${_mlops_operands[0]%%[:@]*}
		_mlops_offer "$(_mlops_ask stages "$model")"$'\nstaging\nproduction' "$cur" ;;
	--shard)
		_mlops_offer auto "$cur" ;;
	--as)
		_mlops_offer "$(_mlops_ask models)" "$cur" ;;
	-C)
		_mlops_dirs "$cur" ;;
	--data | --config | --output | --input | --reference | --reject-file | \
		--metrics-file)
		_mlops_files "$cur" ;;
	esac
	# Other values (numbers, times, text) have nothing to offer.
}

# Candidates for an operand of command $1, current text $2.
_mlops_operand() {
	local cmd=$1 cur=$2 n=${#_mlops_operands[@]}
	case $cmd in
	completion)
		[[ $n -eq 0 ]] && _mlops_offer $'bash\nzsh\nfish' "$cur" ;;
	validate | score-batch | drift | show)
		if [[ $n -eq 0 ]]; then
			_mlops_offer "$(_mlops_ask refs)" "$cur"
			_mlops_files "$cur"
		fi ;;
	promote | rollback | history | export)
		[[ $n -eq 0 ]] && _mlops_offer "$(_mlops_ask refs)" "$cur" ;;
	import)
		[[ $n -eq 0 ]] && _mlops_files "$cur" ;;
	register)
		if [[ $n -eq 0 ]]; then
			_mlops_offer "$(_mlops_ask models)" "$cur"
		elif [[ $n -eq 1 ]]; then
			_mlops_files "$cur"
		fi ;;
	init)
		_mlops_dirs "$cur" ;;
	esac
}

_mlops() {
	local _mlops_words _mlops_global=() _mlops_operands=()
	local cur prev i word cmd='' flags='' n_words
	COMPREPLY=()
	_mlops_reassemble
	n_words=${#_mlops_words[@]}
	cur=${_mlops_words[n_words - 1]}
	prev=
	[[ $n_words -ge 2 ]] && prev=${_mlops_words[n_words - 2]}

	# Global options, then the command.
	for ((i = 1; i < n_words - 1; i++)); do
		word=${_mlops_words[i]}
		case $word in
		-C)
			((i++))
			_mlops_global+=(-C "${_mlops_words[i]}") ;;
		-*) ;;
		*)
			cmd=$word
			break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-C)
			_mlops_value -C "$cur" ;;
		*)
			if [[ $cur == --color=* ]]; then
				_mlops_value --color "${cur#--color=}"
				COMPREPLY=("${COMPREPLY[@]/#/--color=}")
			elif [[ $cur == -* ]]; then
				_mlops_offer "$(_mlops_ask flags)" "$cur"
			else
				_mlops_offer "$(_mlops_ask commands)" "$cur"
			fi ;;
		esac
	else
		flags=$(_mlops_ask flags "$cmd")
		# The operands so far, skipping options and their values.
		for ((i++; i < n_words - 1; i++)); do
			word=${_mlops_words[i]}
			case $word in
			--*=* | -) ;;
			-i | -o | -C) ((i++)) ;;
			-*)
				[[ $'\n'$flags$'\n' == *$'\n'$word$'=\n'* ]] && ((i++)) ;;
			*) _mlops_operands+=("$word") ;;
			esac
		done

		if [[ $cur == --*=* ]]; then
			_mlops_value "${cur%%=*}" "${cur#*=}"
			COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
		elif [[ $cur == -* ]]; then
			_mlops_offer "$flags" "$cur"
		elif [[ $prev == -i || $prev == -o ]]; then
			_mlops_files "$cur"
		elif [[ $prev == --* && $'\n'$flags$'\n' == *$'\n'$prev$'=\n'* ]]; then
			_mlops_value "$prev" "$cur"
		else
			_mlops_operand "$cmd" "$cur"
		fi
	fi

	# An option offered as "--name=" waits for its value.
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi

	# Readline replaces only the text after the last word-break character
	# of the current word (from it, for bash's special prefixes @ and $):
	# strip what comes before from every candidate.
	local j c prefix=
	for ((j = ${#cur} - 1; j >= 0; j--)); do
		c=${cur:j:1}
		if [[ $COMP_WORDBREAKS == *"$c"* ]]; then
			if [[ $c == [@\$] ]]; then
				prefix=${cur:0:j}
			else
				prefix=${cur:0:j+1}
			fi
			break
		fi
	done
	if [[ -n $prefix ]]; then
		for j in "${!COMPREPLY[@]}"; do
			COMPREPLY[j]=${COMPREPLY[j]#"$prefix"}
		done
	fi
	return 0
}

complete -F _mlops mlops
