# fish completion for mlops.
#
# Installed in fish's vendor_completions.d, or loaded with
#   mlops completion fish | source
# Asks the binary (the hidden, read-only `mlops __complete`) for commands,
# options, model references and stages.

# mlops __complete ARGS, with the -C of the command line, quietly.
function __mlops_ask
    set -l tokens (commandline -opc)
    set -l prog $tokens[1]
    set -l global
    set -l i 2
    while test $i -lt (count $tokens)
        if test "$tokens[$i]" = -C
            set global $global -C $tokens[(math $i + 1)]
        end
        set i (math $i + 1)
    end
    command $prog $global __complete $argv 2>/dev/null
end

# Print the command and its operands so far (options and their values
# skipped); nothing before the command.
function __mlops_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd
    set -l flags
    while set -q tokens[1]
        set -l t $tokens[1]
        set -e tokens[1]
        if test -z "$cmd"
            switch $t
                case -C
                    set -e tokens[1]
                case '-*'
                case '*'
                    set cmd $t
                    echo $cmd
                    set flags (__mlops_ask flags $cmd)
            end
            continue
        end
        switch $t
            case '--*=*' -
            case -i -o -C
                set -e tokens[1]
            case '-*'
                if contains -- "$t=" $flags
                    set -e tokens[1]
                end
            case '*'
                echo $t
        end
    end
end

function __mlops_complete
    set -l parsed (__mlops_parse)
    set -l cur (commandline -ct)
    set -l prev (commandline -opc)[-1]

    if not set -q parsed[1]
        switch "$cur"
            case '--color=*'
                printf '%s\n' --color=auto --color=always --color=never
            case '-*'
                __mlops_ask flags
            case '*'
                if test "$prev" = -C
                    __fish_complete_directories "$cur"
                else
                    __mlops_ask commands
                end
        end
        return
    end

    set -l cmd $parsed[1]
    set -l operands $parsed[2..-1]
    set -l flags (__mlops_ask flags $cmd)
    set -l opt
    set -l val
    set -l prefix
    if string match -q -- '--*=*' "$cur"
        set opt (string replace -r '=.*' '' -- $cur)
        set val (string replace -r '^[^=]*=' '' -- $cur)
        set prefix "$opt="
    else if string match -q -- '-*' "$cur"
        printf '%s\n' $flags
        return
    else if contains -- "$prev" -i -o
        __fish_complete_path "$cur"
        return
    else if string match -q -- '--*' "$prev"; and contains -- "$prev=" $flags
        set opt $prev
        set val $cur
    end

    if test -n "$opt"
        set -l vals
        switch $opt
            case --model
                if test "$cmd" = runs
                    set vals (__mlops_ask models)
                else
                    set vals auto logistic softmax linear ridge
                end
            case --kind
                set vals train validate score-batch drift
            case --method
                set vals auto psi ks chi2 js wasserstein
            case --delimiter --reference-delimiter
                set vals , \; tab \|
            case --encoding
                set vals utf-8 latin1
            case --shard
                set vals auto
            case --against
                set vals (__mlops_ask refs) (__fish_complete_path "$val")
            case --to
                set -l model (string replace -r '[:@].*' '' -- "$operands[1]")
                set vals (__mlops_ask stages $model) staging production
            case --as
                set vals (__mlops_ask models)
            case --data --config --output --input --reference --reject-file --metrics-file
                set vals (__fish_complete_path "$val")
            case '*'
                # Numbers, times, text: nothing to offer.
        end
        printf '%s\n' "$prefix"$vals
        return
    end

    set -l n (count $operands)
    switch $cmd
        case completion
            test $n -eq 0; and printf '%s\n' bash zsh fish
        case validate score-batch drift show
            test $n -eq 0; and __mlops_ask refs; and __fish_complete_path "$cur"
        case promote rollback history export
            test $n -eq 0; and __mlops_ask refs
        case import
            test $n -eq 0; and __fish_complete_path "$cur"
        case register
            if test $n -eq 0
                __mlops_ask models
            else if test $n -eq 1
                __fish_complete_path "$cur"
            end
        case init
            __fish_complete_directories "$cur"
    end
end

complete -c mlops -f -a '(__mlops_complete)'
