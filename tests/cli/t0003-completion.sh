#!/bin/sh
# shellcheck disable=SC1091,SC2016,SC2034 # git-style test bodies are eval'd
# Shell completion: `mlops completion SHELL` prints the installed scripts,
# `mlops __complete` answers them, and bash really completes with them.
test_description='completion scripts and the __complete helper'
. "$TEST_SRCDIR/cli/lib.sh"

COMPLETIONS=$TOP_SRCDIR/completions

# complete.bash LINE: what the bash completion offers for LINE, with the
# cursor at its end, one candidate per line.  The line is split into
# COMP_WORDS the way bash does, cutting at '=' and ':' too.
cat >complete.bash <<'EOF'
source <("$MLOPS" completion bash) || exit 1
spec=$(complete -p mlops) || exit 1
fn=${spec#*-F }
fn=${fn%% *}
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
COMP_WORDS=()
w=
for ((i = 0; i < ${#COMP_LINE}; i++)); do
	c=${COMP_LINE:i:1}
	if [[ $c == ' ' ]]; then
		[[ -n $w ]] && COMP_WORDS+=("$w")
		w=
	elif [[ $c == [=:] ]]; then
		[[ -n $w ]] && COMP_WORDS+=("$w")
		COMP_WORDS+=("$c")
		w=
	else
		w+=$c
	fi
done
if [[ -n $w || $COMP_LINE == *' ' ]]; then
	COMP_WORDS+=("$w")
fi
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
"$fn" mlops "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
EOF

offers() {
	bash complete.bash "$MLOPS $1" >offered &&
	cat offered
}

test_expect_success 'completion bash prints completions/mlops.bash' '
	"$MLOPS" completion bash >actual &&
	test_cmp "$COMPLETIONS/mlops.bash" actual
'

test_expect_success 'completion zsh and fish print their scripts' '
	"$MLOPS" completion zsh >actual &&
	test_cmp "$COMPLETIONS/_mlops" actual &&
	"$MLOPS" completion fish >actual &&
	test_cmp "$COMPLETIONS/mlops.fish" actual
'

test_expect_success 'completion of an unknown shell is a usage error' '
	test_expect_code 2 "$MLOPS" completion tcsh 2>err &&
	test_one_line err &&
	test_grep "unknown shell" err
'

test_expect_success 'the bash script parses in bash' '
	bash -n "$COMPLETIONS/mlops.bash"
'

test_expect_success ZSH 'the zsh script parses in zsh' '
	zsh -n "$COMPLETIONS/_mlops"
'

test_expect_success FISH 'the fish script parses in fish' '
	fish --no-execute "$COMPLETIONS/mlops.fish"
'

test_expect_success '__complete commands lists the visible commands' '
	"$MLOPS" __complete commands >actual &&
	test_grep "^score-batch$" actual &&
	test_grep "^train$" actual &&
	! grep "^__complete$" actual
'

test_expect_success '__complete flags marks options taking a value' '
	"$MLOPS" __complete flags train >actual &&
	test_grep "^--data=$" actual &&
	test_grep "^--target=$" actual &&
	"$MLOPS" __complete flags promote >actual &&
	test_grep "^--dry-run$" actual
'

test_expect_success '__complete prints nothing, and succeeds, outside a repository' '
	"$MLOPS" __complete refs >actual &&
	test_cmp /dev/null actual &&
	"$MLOPS" __complete models >actual &&
	test_cmp /dev/null actual
'

test_expect_success '__complete answers, silently, beside a broken registry' '
	mkdir broken &&
	(
		cd broken &&
		"$MLOPS" -q init &&
		echo "not a database" >.mlops/registry.db &&
		"$MLOPS" __complete commands >../actual 2>../err &&
		"$MLOPS" __complete refs >../refs 2>>../err
	) &&
	test_grep "^train$" actual &&
	test_cmp /dev/null refs &&
	test_cmp /dev/null err
'

test_expect_success 'bash is told to complete mlops with a function' '
	bash -c "source <(\"\$MLOPS\" completion bash) && complete -p mlops" >actual &&
	test_grep "^complete -F _mlops mlops$" actual
'

test_expect_success 'bash completes a command name' '
	offers "sc" >actual &&
	echo score-batch >expect &&
	test_cmp expect actual
'

test_expect_success 'bash completes a flag, waiting for its value' '
	offers "train --tar" >actual &&
	echo --target= >expect &&
	test_cmp expect actual
'

test_expect_success 'bash completes a file after --data=' '
	: >train-week.csv &&
	offers "train --data=train-w" >actual &&
	echo train-week.csv >expect &&
	test_cmp expect actual
'

test_expect_success 'a repository with a model and a stage' '
	"$MLOPS" init >/dev/null &&
	"$GEN" --rows 300 --seed 1 >train.csv &&
	"$MLOPS" -q train --data train.csv --target y --exclude id \
		--register churn >/dev/null &&
	"$MLOPS" -q promote churn:1 --to staging --force \
		--reason "completion test" >/dev/null
'

test_expect_success '__complete names models, stages and references' '
	"$MLOPS" __complete models >actual &&
	echo churn >expect &&
	test_cmp expect actual &&
	"$MLOPS" __complete stages churn >actual &&
	echo staging >expect &&
	test_cmp expect actual &&
	"$MLOPS" __complete refs >actual &&
	printf "%s\n" churn churn:1 churn@staging >expect &&
	test_cmp expect actual
'

test_expect_success 'bash completes model references after NAME: and NAME@' '
	offers "promote churn:" >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	offers "history churn@st" >actual &&
	echo @staging >expect &&
	test_cmp expect actual
'

test_expect_success 'bash completes the stage for promote --to' '
	offers "promote churn:1 --to st" >actual &&
	echo staging >expect &&
	test_cmp expect actual
'

test_done
