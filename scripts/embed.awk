# Turn a text file into a C string constant:
#   awk -v name=VAR -f scripts/embed.awk FILE
# prints "const char VAR[] = ...;" with every line as a string literal.
# Backslashes, quotes, tabs and '?' (trigraphs) are escaped one character
# at a time (gsub's replacement escapes differ between awks).
BEGIN {
	printf "const char %s[] =\n", name
	esc["\\"] = "\\\\"
	esc["\""] = "\\\""
	esc["\t"] = "\\t"
	esc["?"] = "\\?"
}
{
	out = ""
	n = length($0)
	for (i = 1; i <= n; i++) {
		c = substr($0, i, 1)
		out = out ((c in esc) ? esc[c] : c)
	}
	printf "\t\"%s\\n\"\n", out
}
END {
	print "\t\"\";"
}
