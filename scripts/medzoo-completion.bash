# Tab completion for medzoo in bash. Load it with
#   source scripts/medzoo-completion.bash        (or copy it to /etc/bash_completion.d/medzoo)
# It asks medzoo itself through System.CommandLine's [suggest] directive, so verbs, options and
# option values complete exactly as the installed medzoo parses them. MEDZOO_COMMAND overrides how
# medzoo is started (default: medzoo on PATH), e.g. MEDZOO_COMMAND="dotnet /opt/medzoo/medzoo.dll".
_medzoo_complete() {
    local line="${COMP_LINE:0:$COMP_POINT}"
    # The directive takes the command line without the executable, and the cursor position in it.
    local rest=""
    [[ "$line" == *[[:space:]]* ]] && rest="${line#*[[:space:]]}"
    local words
    # MEDZOO_COMMAND is split into words on purpose ("dotnet path/medzoo.dll").
    # shellcheck disable=SC2086
    words=$(${MEDZOO_COMMAND:-medzoo} "[suggest:${#rest}]" "$rest" 2>/dev/null) || return 0
    local IFS=$'\n'
    # shellcheck disable=SC2207
    COMPREPLY=($(compgen -W "$words" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _medzoo_complete medzoo
