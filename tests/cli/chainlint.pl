#!/usr/bin/perl
# chainlint.pl: find test bodies whose commands are not chained with &&.
#
#   perl chainlint.pl FILE...
#
# The idea is git's t/chainlint.pl; this is our own smaller lexer and
# parser.  A test body runs under `set -e`, but the shell ignores -e in
# every command of an && or || list but the last, and inside a loop or
# a group that is part of such a list; so in
#
#	a &&
#	b
#	c
#
# a failing `a` goes unnoticed.  Hence every command of a body must be
# joined to the next by && (or end it), and the last command of a loop
# body must end with `|| return 1` (or `|| exit 1`), since a loop's
# status is its last pass's.
#
# For each test_expect_success (or _failure) in FILE, the body (its last
# argument, a quoted word) is taken as the shell reads it and parsed:
# lists, && and || lists, pipelines, simple commands, ( ) and { }
# groups, if, for, while, until, case, function definitions, here-docs,
# quotes, $( ), ${ }, backquotes, comments and backslash-newlines.
# Between two commands of one list (the body, a group, a branch, a loop
# body, a case arm) there must be a && or ||; a newline or ';' there is
# reported.  Not reported: the last command of a list (before `}`, `)`,
# `fi`, `done`, `else`, `;;`, ..., or the end of the body), a command
# sent to the background with '&' (its status is not a test), a
# command ending in `|| return N` or `|| exit N` (it fails the body by
# itself) and one ending in `|| :` or `|| true` (it cannot fail).
# The insides of $( ) and of here-documents are not checked.
#
# Prints one line per problem, "FILE:LINE: what: the source line", and
# exits 1 if there was any, 0 if none, 2 if a body cannot be parsed
# (after printing "FILE:LINE: cannot parse the test body: why").

use strict;
use warnings;

my $status = 0;

# ---- reading shell words ------------------------------------------------

# scan_sq(TEXT, I): I is just past an opening '; the index past its close.
sub scan_sq {
	my ($t, $i) = @_;
	my $e = index($t, "'", $i);
	die "unterminated single quote\n" if $e < 0;
	return $e + 1;
}

# scan_dq(TEXT, I): I is just past an opening "; the index past its close.
sub scan_dq {
	my ($t, $i) = @_;
	my $n = length $t;
	while ($i < $n) {
		my $c = substr($t, $i, 1);
		if ($c eq '\\') {
			$i += 2;
		} elsif ($c eq '"') {
			return $i + 1;
		} elsif ($c eq '`') {
			$i = scan_bq($t, $i + 1);
		} elsif (substr($t, $i, 2) eq '$(') {
			$i = scan_paren($t, $i + 2);
		} elsif (substr($t, $i, 2) eq '${') {
			$i = scan_brace($t, $i + 2);
		} else {
			$i++;
		}
	}
	die "unterminated double quote\n";
}

# scan_bq(TEXT, I): I is just past an opening backquote.
sub scan_bq {
	my ($t, $i) = @_;
	my $n = length $t;
	while ($i < $n) {
		my $c = substr($t, $i, 1);
		return $i + 1 if $c eq '`';
		$i += $c eq '\\' ? 2 : 1;
	}
	die "unterminated backquote\n";
}

# scan_paren(TEXT, I): I is just past "$(" (or "$(("); the index past the
# matching ")".
sub scan_paren {
	my ($t, $i) = @_;
	my $n = length $t;
	my $depth = 1;
	while ($i < $n) {
		my $c = substr($t, $i, 1);
		if ($c eq '\\') {
			$i += 2;
		} elsif ($c eq "'") {
			$i = scan_sq($t, $i + 1);
		} elsif ($c eq '"') {
			$i = scan_dq($t, $i + 1);
		} elsif ($c eq '`') {
			$i = scan_bq($t, $i + 1);
		} elsif (substr($t, $i, 2) eq '${') {
			$i = scan_brace($t, $i + 2);
		} elsif ($c eq '(') {
			$depth++;
			$i++;
		} elsif ($c eq ')') {
			$i++;
			return $i if --$depth == 0;
		} else {
			$i++;
		}
	}
	die "unterminated \$(\n";
}

# scan_brace(TEXT, I): I is just past "${"; the index past its "}".
sub scan_brace {
	my ($t, $i) = @_;
	my $n = length $t;
	while ($i < $n) {
		my $c = substr($t, $i, 1);
		if ($c eq '\\') {
			$i += 2;
		} elsif ($c eq "'") {
			$i = scan_sq($t, $i + 1);
		} elsif ($c eq '"') {
			$i = scan_dq($t, $i + 1);
		} elsif (substr($t, $i, 2) eq '$(') {
			$i = scan_paren($t, $i + 2);
		} elsif (substr($t, $i, 2) eq '${') {
			$i = scan_brace($t, $i + 2);
		} elsif ($c eq '}') {
			return $i + 1;
		} else {
			$i++;
		}
	}
	die "unterminated \${\n";
}

# scan_word(TEXT, I): the index past the word starting at I.
sub scan_word {
	my ($t, $i) = @_;
	my $n = length $t;
	while ($i < $n) {
		my $c = substr($t, $i, 1);
		last if $c =~ /[ \t\n;&|()<>]/;
		if ($c eq '\\') {
			$i += 2;
		} elsif ($c eq "'") {
			$i = scan_sq($t, $i + 1);
		} elsif ($c eq '"') {
			$i = scan_dq($t, $i + 1);
		} elsif ($c eq '`') {
			$i = scan_bq($t, $i + 1);
		} elsif (substr($t, $i, 2) eq '$(') {
			$i = scan_paren($t, $i + 2);
		} elsif (substr($t, $i, 2) eq '${') {
			$i = scan_brace($t, $i + 2);
		} else {
			$i++;
		}
	}
	return $i > $n ? $n : $i;
}

# cook(WORD): the word with its quotes removed, as the shell passes it
# on (no expansion).  Newlines are kept, so lines still count right.
sub cook {
	my ($w) = @_;
	my $out = '';
	my $i = 0;
	my $n = length $w;
	while ($i < $n) {
		my $c = substr($w, $i, 1);
		if ($c eq "'") {
			my $e = scan_sq($w, $i + 1);
			$out .= substr($w, $i + 1, $e - $i - 2);
			$i = $e;
		} elsif ($c eq '"') {
			my $e = scan_dq($w, $i + 1);
			my $in = substr($w, $i + 1, $e - $i - 2);
			$in =~ s/\\([\\"\$`])/$1/g;
			$out .= $in;
			$i = $e;
		} elsif ($c eq '\\') {
			$out .= substr($w, $i + 1, 1);
			$i += 2;
		} else {
			$out .= $c;
			$i++;
		}
	}
	return $out;
}

# ---- tokens -------------------------------------------------------------

# lex(TEXT, LINE): the tokens of shell TEXT whose first line is LINE,
# each [kind, text, line] with kind one of word, op, redir, nl, eof.
sub lex {
	my ($t, $line) = @_;
	my $n = length $t;
	my $i = 0;
	my (@tok, @heredocs);

	while ($i < $n) {
		my $c = substr($t, $i, 1);
		my $two = substr($t, $i, 2);
		if ($c eq ' ' || $c eq "\t") {
			$i++;
		} elsif ($two eq "\\\n") {
			$i += 2;
			$line++;
		} elsif ($c eq "\n") {
			push @tok, ['nl', "\n", $line];
			$i++;
			$line++;
			# Here-document bodies start on the next line.
			for my $h (@heredocs) {
				my ($delim, $strip, $from) = @$h;
				while (1) {
					die "line $from: here-document '$delim' never ends\n"
						if $i >= $n;
					my $e = index($t, "\n", $i);
					$e = $n if $e < 0;
					my $l = substr($t, $i, $e - $i);
					$i = $e + 1;
					$line++;
					$l =~ s/^\t+// if $strip;
					last if $l eq $delim;
				}
			}
			@heredocs = ();
		} elsif ($c eq '#') {
			my $e = index($t, "\n", $i);
			$i = $e < 0 ? $n : $e;
		} elsif (substr($t, $i, 3) eq '<<<') {
			push @tok, ['redir', '<<<', $line];
			$i += 3;
		} elsif ($two eq '<(' || $two eq '>(') {
			# bash's process substitution: one word.
			my $e = scan_paren($t, $i + 2);
			push @tok, ['word', substr($t, $i, $e - $i), $line];
			$line += () = substr($t, $i, $e - $i) =~ /\n/g;
			$i = $e;
		} elsif ($two eq '&>') {
			my $n3 = substr($t, $i, 3) eq '&>>' ? 3 : 2;
			push @tok, ['redir', substr($t, $i, $n3), $line];
			$i += $n3;
		} elsif ($two eq '<<') {
			my $strip = substr($t, $i, 3) eq '<<-';
			$i += $strip ? 3 : 2;
			$i++ while substr($t, $i, 1) =~ /[ \t]/;
			my $e = scan_word($t, $i);
			die "line $line: here-document without a delimiter\n"
				if $e == $i;
			my $delim = cook(substr($t, $i, $e - $i));
			push @heredocs, [$delim, $strip, $line];
			push @tok, ['redir', '<<', $line], ['word', $delim, $line];
			$i = $e;
		} elsif ($two eq '&&' || $two eq '||' || $two eq ';;') {
			push @tok, ['op', $two, $line];
			$i += 2;
		} elsif ($c =~ /[;&|()]/) {
			push @tok, ['op', $c, $line];
			$i++;
		} elsif ($two =~ /^(?:>>|>&|<&|>\||<>)$/) {
			push @tok, ['redir', $two, $line];
			$i += 2;
		} elsif ($c eq '<' || $c eq '>') {
			push @tok, ['redir', $c, $line];
			$i++;
		} else {
			my $e = scan_word($t, $i);
			my $w = substr($t, $i, $e - $i);
			# "2>err": the 2 belongs to the redirection.
			push @tok, ['word', $w, $line]
				unless $w =~ /^[0-9]+$/ &&
				       substr($t, $e, 1) =~ /[<>]/;
			$line += () = $w =~ /\n/g;
			$i = $e;
		}
	}
	die "line $heredocs[0][2]: here-document '$heredocs[0][0]' never ends\n"
		if @heredocs;
	push @tok, ['eof', '', $line];
	return \@tok;
}

# ---- parsing and checking -----------------------------------------------

my ($file, @src, @tok, $pos);
my %closer = map { $_ => 1 } qw(then elif else fi do done esac });

sub peek { return $tok[$pos]; }
sub next_tok { return $tok[$pos++]; }
sub is_op { my ($tk, $op) = @_; return $tk->[0] eq 'op' && $tk->[1] eq $op; }
sub is_word { my ($tk, $w) = @_; return $tk->[0] eq 'word' && $tk->[1] eq $w; }
sub skip_nl { $pos++ while $tok[$pos][0] eq 'nl'; }

my %reported;

sub report {
	my ($line, $what) = @_;
	return if $reported{"$file:$line:$what"}++;
	my $s = $src[$line - 1] // '';
	$s =~ s/^\s+|\s+$//g;
	print "$file:$line: $what: $s\n";
	$status = 1 if $status == 0;
}

sub expect_word {
	my ($w) = @_;
	my $tk = next_tok();
	die "line $tk->[2]: expected '$w', found '" .
	    ($tk->[0] eq 'nl' ? 'newline' : $tk->[1] || 'end of body') . "'\n"
		unless is_word($tk, $w);
	return $tk;
}

# at_list_end: the next token closes the list being read.
sub at_list_end {
	my $tk = peek();
	return $tk->[0] eq 'eof' || is_op($tk, ')') || is_op($tk, ';;') ||
	       ($tk->[0] eq 'word' && $closer{$tk->[1]});
}

# parse_list: commands up to a closer.  Returns the last and-or list
# read (undef if none) and how it ended: '&', ';', "\n" or ''.
sub parse_list {
	my ($last, $sep) = (undef, '');
	skip_nl();
	while (!at_list_end()) {
		my $prev = $last;
		$last = parse_and_or();
		# "CMD; exit 1" fails the body whatever CMD did.
		if ($prev && ($sep eq "\n" || $sep eq ';') &&
		    !$prev->{exits} && !$last->{starts_exit}) {
			report($prev->{line}, $sep eq ';' ?
			       "';' where '&&' belongs" :
			       "missing '&&' at the end of this line");
		}
		my $tk = peek();
		if (is_op($tk, ';') || is_op($tk, '&')) {
			$sep = $tk->[1];
			$pos++;
		} elsif ($tk->[0] eq 'nl') {
			$sep = "\n";
		} else {
			$sep = '';
		}
		skip_nl();
	}
	return ($last, $sep);
}

# parse_and_or: pipelines joined by && or ||.  Returns {line: the line
# of its last token, exits: it cannot end in failure without leaving
# the body ("CMD || exit 1", a checked loop, "CMD || :"), starts_exit:
# it starts with an exit or return, ends_exit: it ends with one}.
sub parse_and_or {
	my $cmd = parse_pipeline();
	my $starts_exit = $cmd->{exits};
	my $exits = $cmd->{exits};
	while (is_op(peek(), '&&') || is_op(peek(), '||')) {
		my $op = next_tok();
		skip_nl();
		die "line $op->[2]: '$op->[1]' with no command after it\n"
			if at_list_end();
		$cmd = parse_pipeline();
		$exits = $op->[1] eq '||' && ($cmd->{exits} || $cmd->{true});
	}
	return { line => $tok[$pos - 1][2], exits => $exits,
		 starts_exit => $starts_exit, ends_exit => $cmd->{exits} };
}

# parse_pipeline: commands joined by |.  Returns {exits: it is a single
# exit or return, a { } group ending in one, or a loop whose body's last
# command ends in one}.
sub parse_pipeline {
	$pos++ if is_word(peek(), '!');
	my $cmd = parse_command();
	while (is_op(peek(), '|')) {
		$pos++;
		skip_nl();
		$cmd = parse_command();
		$cmd->{exits} = 0;
	}
	return $cmd;
}

sub parse_redirs {
	while (peek()->[0] eq 'redir') {
		my $r = next_tok();
		die "line $r->[2]: '$r->[1]' without a target\n"
			unless next_tok()->[0] eq 'word';
	}
}

sub parse_command {
	my $tk = peek();
	my ($exits, $true) = (0, 0);

	if (is_op($tk, '(')) {
		$pos++;
		parse_list();
		my $close = next_tok();
		die "line $tk->[2]: '(' not closed\n" unless is_op($close, ')');
	} elsif (is_word($tk, '{')) {
		$pos++;
		my ($last) = parse_list();
		$exits = $last && ($last->{ends_exit} || $last->{exits});
		expect_word('}');
	} elsif (is_word($tk, 'if')) {
		$pos++;
		parse_list();
		expect_word('then');
		parse_list();
		while (is_word(peek(), 'elif')) {
			$pos++;
			parse_list();
			expect_word('then');
			parse_list();
		}
		if (is_word(peek(), 'else')) {
			$pos++;
			parse_list();
		}
		expect_word('fi');
	} elsif (is_word($tk, 'for')) {
		$pos++;
		if (is_op(peek(), '(')) {
			# bash's for ((init; test; step))
			my $depth = 0;
			do {
				my $p = next_tok();
				die "line $tk->[2]: 'for ((' not closed\n"
					if $p->[0] eq 'eof';
				$depth++ if is_op($p, '(');
				$depth-- if is_op($p, ')');
			} while ($depth > 0);
		} else {
			next_tok();	# the name
		}
		if (is_word(peek(), 'in')) {
			$pos++;
			$pos++ while peek()->[0] eq 'word';
		}
		$pos++ if is_op(peek(), ';');
		skip_nl();
		$exits = parse_loop_body($tk);
	} elsif (is_word($tk, 'while') || is_word($tk, 'until')) {
		$pos++;
		parse_list();
		$exits = parse_loop_body($tk);
	} elsif (is_word($tk, 'case')) {
		$pos++;
		next_tok();	# the subject
		skip_nl();
		expect_word('in');
		skip_nl();
		while (!is_word(peek(), 'esac')) {
			die "line $tk->[2]: 'case' not closed\n"
				if peek()->[0] eq 'eof';
			$pos++ if is_op(peek(), '(');
			until (is_op(peek(), ')')) {
				my $p = next_tok();
				die "line $p->[2]: bad case pattern\n"
					unless $p->[0] eq 'word' || is_op($p, '|');
			}
			$pos++;
			parse_list();
			$pos++ if is_op(peek(), ';;');
			skip_nl();
		}
		$pos++;
	} elsif ($tk->[0] eq 'word' || $tk->[0] eq 'redir') {
		my $first;
		while (peek()->[0] eq 'word' || peek()->[0] eq 'redir') {
			if (peek()->[0] eq 'redir') {
				parse_redirs();
			} else {
				my $w = next_tok()->[1];
				$first //= $w;
			}
		}
		if (defined $first && is_op(peek(), '(') &&
		    is_op($tok[$pos + 1], ')')) {
			# NAME() COMMAND: a function definition.
			$pos += 2;
			skip_nl();
			parse_command();
		}
		$exits = defined $first && $first =~ /^(?:exit|return)$/;
		$true = defined $first && $first =~ /^(?::|true)$/;
	} else {
		die "line $tk->[2]: unexpected '" .
		    ($tk->[0] eq 'nl' ? 'newline' : $tk->[1] || 'end of body') .
		    "'\n";
	}
	parse_redirs();
	return { exits => $exits, true => $true };
}

# parse_loop_body(KEYWORD): "do LIST done", checking that the last
# command of LIST cannot let a failed pass go unnoticed.  Returns true
# if it cannot (the loop then fails only by leaving the body).
sub parse_loop_body {
	my ($kw) = @_;
	expect_word('do');
	my ($last, $sep) = parse_list();
	my $done = expect_word('done');
	if ($last && $sep ne '&' && !$last->{exits}) {
		report($last->{line},
		       "the last command of a '$kw->[1]' loop body needs " .
		       "'|| return 1' (the loop's status is its last pass's)");
	}
	return $last && $last->{exits};
}

# ---- finding the bodies ---------------------------------------------------

# line_at(TEXT, I): the line number of index I of TEXT.
sub line_at {
	my ($t, $i) = @_;
	return 1 + (() = substr($t, 0, $i) =~ /\n/g);
}

for my $path (@ARGV) {
	my $text;
	if (!open(my $fh, '<', $path)) {
		print "$path: cannot open: $!\n";
		$status = 2;
		next;
	} else {
		local $/;
		$text = <$fh>;
		close $fh;
	}
	$file = $path;
	@src = split /\n/, $text, -1;

	while ($text =~ /^[ \t]*test_expect_(?:success|failure)[ \t]+/mg) {
		my $i = pos($text);
		my $start = line_at($text, $i);
		my ($body, $body_at);
		# The arguments up to the end of the command; the last is
		# the body.
		my $ok = eval {
			my $n = length $text;
			while ($i < $n) {
				my $c = substr($text, $i, 1);
				last if $c eq "\n" || $c eq ';' || $c eq '&';
				if ($c eq ' ' || $c eq "\t") {
					$i++;
				} elsif (substr($text, $i, 2) eq "\\\n") {
					$i += 2;
				} else {
					my $e = scan_word($text, $i);
					die "an argument starts with '$c'\n" if $e == $i;
					($body, $body_at) = (substr($text, $i, $e - $i), $i);
					$i = $e;
				}
			}
			pos($text) = $i;
			1;
		};
		if (!$ok) {
			print "$file:$start: cannot parse the test: $@";
			$status = 2;
			last;
		}
		# A body held in a variable is not ours to read.
		next if !defined $body || $body =~ /^\$/;
		my $line = line_at($text, $body_at);
		$ok = eval {
			@tok = @{lex(cook($body), $line)};
			$pos = 0;
			parse_list();
			die "line $tok[$pos][2]: unexpected '$tok[$pos][1]'\n"
				if $tok[$pos][0] ne 'eof';
			1;
		};
		if (!$ok) {
			my $why = $@;
			my $at = $why =~ s/^line (\d+): // ? $1 : $line;
			print "$file:$at: cannot parse the test body: $why";
			$status = 2;
		}
	}
}
exit $status;
