#!/usr/bin/perl
# Check src/ against its layer table (src/README): every #include arrow,
# the restricted system headers, who writes to stdout, who exits, threads
# in command files, and function sizes.
#
#   perl tests/cli/layers.pl [--src DIR] [--table FILE] [--stats] [--suggest]
#
# Prints one line per problem, "[check] FILE:LINE: what is wrong", where
# check is one of table, include, system, stdout, exit, thread, size;
# "note: ..." lines for table entries that are no longer needed; and with
# --stats one "stats: ..." line (the counts a caller checks so that the
# test cannot pass on an empty tree).  Exit 0 when there is no problem,
# 1 when there is one, 2 when the table cannot be read.
#
# --suggest prints, instead, the Modules rows as the code is now: every
# module with its layer (from the table, or "?" for a module without a
# row) and the project headers it includes (keeping the table's ! marks),
# for pasting into src/README after checking each new arrow.
use strict;
use warnings;

my ($src, $table, $stats, $suggest) = ('src', undef, 0, 0);
while (@ARGV) {
	my $a = shift @ARGV;
	if ($a eq '--src') { $src = shift @ARGV; }
	elsif ($a eq '--table') { $table = shift @ARGV; }
	elsif ($a eq '--stats') { $stats = 1; }
	elsif ($a eq '--suggest') { $suggest = 1; }
	else { die "usage: layers.pl [--src DIR] [--table FILE] [--stats] [--suggest]\n"; }
}
$table //= "$src/README";

my @problems;
my @notes;
sub problem { push @problems, "[$_[0]] $_[1]"; }
sub note { push @notes, "note: $_[0]"; }
sub bad_table { print STDERR "layers.pl: $table: $_[0]\n"; exit 2; }

# --- the table ------------------------------------------------------------
my %rank = (main => 6, cmd => 5, jobs => 4, core => 3, storage => 2, plumbing => 1);
my (%layer, %arrows, %bang, %row_line, %exception, %exc_line);
my (%sys_allowed, %stdout_ok, %runner, %runner_ok, %size_max, %size_line);
open(my $t, '<', $table) or bad_table("cannot open: $!");
my @tl = <$t>;
close $t;
my $section = '';
for my $i (0 .. $#tl) {
	my $l = $tl[$i];
	chomp $l;
	if ($i < $#tl && $tl[$i + 1] =~ /^-{3,}\s*$/ && $l =~ /\S/) {
		$section = lc $l;
		$section =~ s/\s+$//;
		next;
	}
	next unless $l =~ /^  (\S.*)$/;
	my @f = split ' ', $1;
	my $where = "$table:" . ($i + 1);
	if ($section eq 'layers, top to bottom') {
		bad_table("line " . ($i + 1) . ": unknown layer '$f[0]'")
			if $l =~ /^  \S/ && !exists $rank{$f[0]};
	} elsif ($section eq 'modules') {
		next if $f[0] eq 'module';
		my $m = shift @f;
		my $ly = shift @f // '';
		exists $rank{$ly} or bad_table("line " . ($i + 1) . ": module $m: unknown layer '$ly'");
		exists $layer{$m} and bad_table("line " . ($i + 1) . ": module $m listed twice");
		$layer{$m} = $ly;
		$row_line{$m} = $where;
		$arrows{$m} = {};
		for my $to (@f) {
			my $b = $to =~ s/!$//;
			$arrows{$m}{$to} = 1;
			$bang{"$m -> $to"} = 1 if $b;
		}
	} elsif ($section eq 'known exceptions') {
		if ($l =~ /^  (\S+)\s*->\s*(\S+)\s+\S/) {
			$exception{"$1 -> $2"} = 1;
			$exc_line{"$1 -> $2"} = $where;
		}
	} elsif ($section eq 'restricted system headers') {
		next if $f[0] eq 'header';
		my $h = shift @f;
		$h =~ /^<.+>$/ or bad_table("line " . ($i + 1) . ": '$h' is not a <header>");
		$sys_allowed{$h} = { map { $_ => 1 } @f };
	} elsif ($section eq 'standard output') {
		next if $f[0] eq 'module';
		$stdout_ok{$f[0]} = 1;
	} elsif ($section eq 'threads in commands') {
		next if $f[0] eq 'runner' || $f[0] eq 'module';
		if (exists $layer{$f[0]} && @f == 2) {
			$runner_ok{"$f[0] $f[1]"} = $where;
		} else {
			$runner{$f[0]} = 1;
		}
	} elsif ($section eq 'function sizes') {
		next if $f[0] eq 'file';
		@f == 3 && $f[2] =~ /^\d+$/
			or bad_table("line " . ($i + 1) . ": want 'FILE FUNCTION LINES'");
		$size_max{"$f[0] $f[1]"} = $f[2];
		$size_line{"$f[0] $f[1]"} = $where;
	}
}
keys %layer > 0 or bad_table("no rows under 'Modules'");

# The table must agree with itself.
for my $m (sort keys %layer) {
	for my $to (sort keys %{ $arrows{$m} }) {
		my $arrow = "$m -> $to";
		if (!exists $layer{$to}) {
			problem('table', "$row_line{$m}: $arrow: no module '$to'");
			next;
		}
		next if $bang{$arrow};
		if ($rank{$layer{$to}} > $rank{$layer{$m}}) {
			problem('table', "$row_line{$m}: $arrow goes up ($layer{$m} -> $layer{$to}): mark it ! and say why under Known exceptions, or drop it");
		}
		if ($m =~ /^cmd-/ && $to =~ /^cmd-/) {
			problem('table', "$row_line{$m}: $arrow: a command includes no other command (share code through cmd.h)");
		}
	}
}
for my $arrow (sort keys %bang) {
	problem('table', "$table: $arrow is marked ! but has no line under Known exceptions")
		unless $exception{$arrow};
}
for my $arrow (sort keys %exception) {
	problem('table', "$exc_line{$arrow}: $arrow is under Known exceptions but not marked ! in its row")
		unless $bang{$arrow};
}

# --- the sources ----------------------------------------------------------
opendir(my $d, $src) or die "layers.pl: cannot open $src: $!\n";
my @files = sort grep { /\.[ch]$/ && -f "$src/$_" } readdir $d;
closedir $d;

# Comments and string/char literals blanked, newlines kept, so that
# matches inside them do not count and line numbers stay right.
sub strip {
	my $s = shift;
	$s =~ s{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|('(?:\\.|[^'\\\n])*')}{
		my $x = defined $1 ? $1 : defined $2 ? $2 : defined $3 ? $3 : $4;
		my $n = ($x =~ tr/\n//);
		(defined $3 ? '""' : defined $4 ? "''" : ' ') . ("\n" x $n);
	}gse;
	return $s;
}
sub line_of { my ($s, $pos) = @_; return 1 + (substr($s, 0, $pos) =~ tr/\n//); }

my (%seen_mod, %used_arrow, %used_runner_ok, %used_size, %actual);
my ($n_inc, $n_sys, $n_funcs) = (0, 0, 0);
for my $file (@files) {
	(my $m = $file) =~ s/\.[ch]$//;
	my $path = "$src/$file";
	$seen_mod{$m} = 1 if exists $layer{$m};
	$actual{$m} //= {};
	if (!exists $layer{$m}) {
		problem('table', "$path: module '$m' has no row in $table (add one under Modules)")
			unless $seen_mod{$m}++;
		next unless $suggest;
	}
	open(my $fh, '<', $path) or die "layers.pl: cannot open $path: $!\n";
	my @lines = <$fh>;
	close $fh;
	my $text = join '', @lines;

	# Includes, from the raw lines (an include's name is a string).
	for my $i (0 .. $#lines) {
		next unless $lines[$i] =~ /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;
		my ($kind, $name) = ($1, $2);
		my $at = "$path:" . ($i + 1);
		if ($kind eq '"') {
			$n_inc++;
			(my $to = $name) =~ s{^.*/}{};
			$to =~ s/\.h$//;
			next if $to eq $m;
			$used_arrow{"$m -> $to"} = 1;
			$actual{$m}{$to} = 1;
			next unless exists $layer{$m};
			if (!exists $layer{$to}) {
				problem('include', "$at: $m -> $to: \"$name\" is no module of the table");
			} elsif (!$arrows{$m}{$to}) {
				my $dir = $rank{$layer{$to}} > $rank{$layer{$m}} ? 'up' :
					  $rank{$layer{$to}} == $rank{$layer{$m}} ? 'sideways' : 'down';
				problem('include', "$at: $m -> $to ($layer{$m} -> $layer{$to}, $dir): arrow not in $table");
			}
		} else {
			$n_sys++;
			my $h = "<$name>";
			if (exists $sys_allowed{$h} && !$sys_allowed{$h}{$m}) {
				my @who = sort keys %{ $sys_allowed{$h} };
				problem('system', "$at: $m includes $h, which only " .
					(@who ? join(' ', @who) : 'no module yet') . " may include");
			}
		}
	}

	next unless exists $layer{$m};
	my $code = strip($text);

	# Stdout.
	if ($layer{$m} ne 'cmd' && !$stdout_ok{$m}) {
		while ($code =~ /\b(printf|vprintf|puts|putchar)\s*\(/g) {
			problem('stdout', "$path:" . line_of($code, $-[0]) . ": $m calls $1(), which writes to stdout; only the cmd layer prints");
		}
		while ($code =~ /\b(fprintf|vfprintf|fputs|fputc|putc|fwrite|fputws|fputwc)\s*\(([^;]*?)\bstdout\b/g) {
			problem('stdout', "$path:" . line_of($code, $-[0]) . ": $m writes to stdout with $1(); only the cmd layer prints");
		}
		while ($code =~ /\b(write)\s*\(\s*(1|STDOUT_FILENO)\s*,/g) {
			problem('stdout', "$path:" . line_of($code, $-[0]) . ": $m writes to file descriptor 1; only the cmd layer prints");
		}
	}

	# Exit.
	if ($m ne 'main') {
		while ($code =~ /(?<![\w.>])(exit|_exit|_Exit|quick_exit)\s*\(/g) {
			problem('exit', "$path:" . line_of($code, $-[0]) . ": $m calls $1(); only main.c ends the process, return a status");
		}
	}

	# Threads in commands.
	if ($layer{$m} eq 'cmd') {
		while ($code =~ /\b(pthread_\w+|__atomic_\w+|__sync_\w+|_Atomic|thrd_\w+|mtx_\w+|atomic_\w+_explicit)\b/g) {
			problem('thread', "$path:" . line_of($code, $-[0]) . ": $m uses $1; a command holds no thread or atomic (move it into a job)");
		}
		for my $i (0 .. $#lines) {
			problem('thread', "$path:" . ($i + 1) . ": $m includes <$1>; a command holds no thread or atomic")
				if $lines[$i] =~ /^\s*#\s*include\s*<(pthread\.h|stdatomic\.h|threads\.h)>/;
		}
		for my $r (sort keys %runner) {
			while ($code =~ /\b\Q$r\E\s*\(/g) {
				if ($runner_ok{"$m $r"}) {
					$used_runner_ok{"$m $r"} = 1;
					next;
				}
				problem('thread', "$path:" . line_of($code, $-[0]) . ": $m calls $r(), which calls back on worker threads; a job does that, not a command");
			}
		}
	}

	# Function sizes, measured as funclen.py does.
	next unless $file =~ /\.c$/;
	my @cl = split /\n/, $text, -1;
	for (my $i = 1; $i < @cl; $i++) {
		next unless $cl[$i] =~ /^\{/;
		my $j = $i - 1;
		$j-- while $j > 0 && index($cl[$j], '(') < 0;
		my $name = $cl[$j] =~ /(\w+)\s*\(/ ? $1 : '?';
		my $k = $i + 1;
		$k++ while $k < @cl && $cl[$k] !~ /^\}/;
		my $n = $k - $j + 1;
		$n_funcs++;
		my $limit = $name =~ /^cmd_/ ? 100 : 200;
		my $key = "$file $name";
		if (exists $size_max{$key}) {
			$used_size{$key} = 1;
			if ($n > $size_max{$key}) {
				problem('size', "$path:" . ($j + 1) . ": $name() is $n lines, more than the $size_max{$key} it may keep ($size_line{$key}); it may shrink, not grow");
			} elsif ($n <= $limit) {
				note("$size_line{$key}: $name() is $n lines now, within $limit: drop it from the list");
			} elsif ($n < $size_max{$key}) {
				note("$size_line{$key}: $name() is $n lines now: lower its entry to $n");
			}
		} elsif ($n > $limit) {
			problem('size', "$path:" . ($j + 1) . ": $name() is $n lines, over $limit" .
				($limit == 100 ? " for a cmd_* function" : "") . "; split it");
		} elsif ($n > 100) {
			note("$path:" . ($j + 1) . ": $name() is $n lines (over 100, within $limit)");
		}
		$i = $k;
	}
}

for my $m (sort keys %layer) {
	problem('table', "$row_line{$m}: module '$m' has no file in $src (drop its row)")
		unless $seen_mod{$m} || $m eq 'completion-scripts';
}
for my $arrow (sort keys %bang) {
	note("$exc_line{$arrow}: $arrow is gone from the code: drop it from its row and from Known exceptions")
		if $exc_line{$arrow} && !$used_arrow{$arrow};
}
for my $k (sort keys %runner_ok) {
	note("$runner_ok{$k}: '$k' no longer happens: drop the line")
		unless $used_runner_ok{$k};
}
for my $k (sort keys %size_max) {
	note("$size_line{$k}: no function '$k' any more: drop the line")
		unless $used_size{$k};
}

if ($suggest) {
	$actual{'completion-scripts'} //= {} if exists $layer{'completion-scripts'};
	for my $m (sort keys %actual) {
		my @to = map { $bang{"$m -> $_"} ? "$_!" : $_ } sort keys %{ $actual{$m} };
		my $row = sprintf("  %-19s %-9s %s", $m, $layer{$m} // '?', join(' ', @to));
		$row =~ s/\s+$//;
		print "$row\n";
	}
	exit 0;
}
print "$_\n" for @problems, @notes;
if ($stats) {
	printf "stats: modules=%d files=%d includes=%d system=%d functions=%d\n",
		scalar(keys %seen_mod), scalar(@files), $n_inc, $n_sys, $n_funcs;
}
exit(@problems ? 1 : 0);
