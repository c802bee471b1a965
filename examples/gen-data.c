/*
 * gen-data: the project's own synthetic tabular data generator.
 *
 * Writes a CSV to stdout with an `id` column, numeric features x1..xK,
 * categorical features c1..cM and a target `y` in the last column, for
 * a binary, multiclass or regression task.  The data follow a known
 * model whose coefficients are fixed by this file (not by the seed), so
 * the same command line always describes the same population; --seed
 * only picks the sample.  The output is a pure function of the command
 * line: the generator uses its own PRNG (xoshiro256** seeded through
 * splitmix64), never rand().
 *
 * Drift is produced on request: --shift moves a numeric column's mean by
 * a multiple of its standard deviation, --scale multiplies its spread and
 * --mix reverses a categorical column's level frequencies.  The label
 * always follows the same conditional model of the (possibly drifted)
 * features, as it would under covariate shift.
 *
 * It must write a million rows of fifty features in a few seconds, so
 * numbers are formatted by a fixed-precision formatter into a large
 * buffer rather than by printf per field.  Only libc and libm are used.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_LEVELS 4
#define MAX_CLASSES 26
#define DECIMALS 4
#define OUT_BUF (1 << 20)

enum task { TASK_BINARY, TASK_MULTICLASS, TASK_REGRESSION };

static const char *progname = "gen-data";

/* ---- PRNG: splitmix64 to seed xoshiro256** ---- */

struct rng {
	uint64_t s[4];
	int have_spare;
	double spare;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
	r->have_spare = 0;
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by the Marsaglia polar method (no trigonometry). */
static double rng_normal(struct rng *r)
{
	double u, v, s, f;

	if (r->have_spare) {
		r->have_spare = 0;
		return r->spare;
	}
	do {
		u = 2.0 * rng_uniform(r) - 1.0;
		v = 2.0 * rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	f = sqrt(-2.0 * log(s) / s);
	r->spare = v * f;
	r->have_spare = 1;
	return u * f;
}

/* ---- fixed model of the population ---- */

/* Column j (1-based) base mean and standard deviation. */
static double col_mean(int j)
{
	static const double means[] = { 0.0, 1.0, -0.5, 2.0, 0.25 };

	return means[(j - 1) % 5];
}

static double col_sd(int j)
{
	static const double sds[] = { 1.0, 2.0, 0.5, 1.5 };

	return sds[(j - 1) % 4];
}

/* Level frequencies of the categorical columns, skewed; --mix reverses. */
static const double level_p[N_LEVELS] = { 0.55, 0.25, 0.13, 0.07 };
static const char *const level_name[N_LEVELS] = { "a", "b", "c", "d" };
/* Effect of c1's level on the linear predictor. */
static const double level_effect[N_LEVELS] = { 0.0, 0.9, -0.7, 1.6 };

/* A fixed pseudo-random number in [-1, 1] for (a, b): model constants. */
static double fixed_coef(unsigned a, unsigned b)
{
	uint64_t x = ((uint64_t)a << 32) ^ b ^ 0x5eed5eedULL;

	return (double)(splitmix64(&x) >> 11) * 0x1.0p-52 - 1.0;
}

/* Binary/regression weight of standardised feature j (1-based). */
static double beta(int j)
{
	double mag = 1.1 / sqrt((double)j);

	return (j % 2) ? mag : -mag;
}

/* ---- options ---- */

struct colmod {
	int col;	/* 1-based column index */
	double value;
};

struct config {
	long rows;
	uint64_t seed;
	enum task task;
	int numeric, categorical, classes, signal;
	double missing;
	int header;
	struct colmod *shift, *scale;
	int n_shift, n_scale;
	unsigned char *mix;	/* per categorical column: reversed mix */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: gen-data --rows N [--seed S] [--task binary|multiclass|regression]\n"
"                [--numeric K] [--categorical M] [--classes C] [--missing FRAC]\n"
"                [--shift xJ=SD]... [--scale xJ=FACTOR]... [--mix cJ]...\n"
"                [--signal K2] [--header|--no-header]\n"
"\n"
"Writes a synthetic CSV to stdout: id, x1..xK, c1..cM, y.\n"
"\n"
"  --rows N          number of rows (required)\n"
"  --seed S          sample seed (default 1); the same seed gives the same rows\n"
"  --task T          binary (default), multiclass or regression\n"
"  --numeric K       numeric features x1..xK (default 5)\n"
"  --categorical M   categorical features c1..cM, levels a-d (default 2)\n"
"  --classes C       classes for multiclass, class_a.. (default 3, max 26)\n"
"  --missing FRAC    fraction of numeric fields left empty (default 0)\n"
"  --signal K2       only x1..xK2 and c1 carry signal (default: all of x)\n"
"  --shift xJ=SD     shift xJ's mean by SD of its standard deviations\n"
"  --scale xJ=F      multiply xJ's spread by F\n"
"  --mix cJ          change cJ's level mix markedly (reverse the frequencies)\n"
"  --header          write the header row (default); --no-header omits it\n"
"\n"
"Examples:\n"
"  gen-data --rows 5000 --seed 1 --signal 2 >train.csv\n"
"  gen-data --rows 5000 --seed 9 --shift x1=0.5 --scale x2=1.5 --mix c1 >drifted.csv\n");
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", progname);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", progname);
	exit(2);
}

static long parse_long(const char *s, const char *flag, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		fprintf(stderr, "%s: %s expects an integer in [%ld, %ld], got '%s'\n",
			progname, flag, min, max, s);
		exit(2);
	}
	return v;
}

static double parse_double(const char *s, const char *flag)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v)) {
		fprintf(stderr, "%s: %s expects a number, got '%s'\n",
			progname, flag, s);
		exit(2);
	}
	return v;
}

/* Parse "<prefix>J" into J >= 1; 0 when malformed. */
static int parse_col(const char *s, size_t len, char prefix)
{
	long j = 0;
	size_t i;

	if (len < 2 || s[0] != prefix || s[1] == '0')
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || j > 100000000)
			return 0;
		j = j * 10 + (s[i] - '0');
	}
	return (int)j;
}

static void add_colmod(struct colmod **list, int *n, const char *arg,
		       const char *flag, const char *bad_msg)
{
	const char *eq = strchr(arg, '=');
	struct colmod m;

	if (!eq || !(m.col = parse_col(arg, (size_t)(eq - arg), 'x')))
		die_usage(bad_msg, arg);
	m.value = parse_double(eq + 1, flag);
	*list = realloc(*list, (size_t)(*n + 1) * sizeof(**list));
	if (!*list) {
		perror(progname);
		exit(1);
	}
	(*list)[(*n)++] = m;
}

static void parse_args(int argc, char **argv, struct config *cfg,
		       const char ***mix_args, int *n_mix)
{
	enum { O_ROWS = 256, O_SEED, O_TASK, O_NUMERIC, O_CATEGORICAL,
	       O_CLASSES, O_MISSING, O_SHIFT, O_SCALE, O_MIX, O_SIGNAL,
	       O_HEADER, O_NO_HEADER };
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, O_ROWS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "task", required_argument, NULL, O_TASK },
		{ "numeric", required_argument, NULL, O_NUMERIC },
		{ "categorical", required_argument, NULL, O_CATEGORICAL },
		{ "classes", required_argument, NULL, O_CLASSES },
		{ "missing", required_argument, NULL, O_MISSING },
		{ "shift", required_argument, NULL, O_SHIFT },
		{ "scale", required_argument, NULL, O_SCALE },
		{ "mix", required_argument, NULL, O_MIX },
		{ "signal", required_argument, NULL, O_SIGNAL },
		{ "header", no_argument, NULL, O_HEADER },
		{ "no-header", no_argument, NULL, O_NO_HEADER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_ROWS:
			cfg->rows = parse_long(optarg, "--rows", 0, 1000000000000L);
			break;
		case O_SEED:
			cfg->seed = (uint64_t)parse_long(optarg, "--seed", 0,
							 LONG_MAX);
			break;
		case O_TASK:
			if (!strcmp(optarg, "binary"))
				cfg->task = TASK_BINARY;
			else if (!strcmp(optarg, "multiclass"))
				cfg->task = TASK_MULTICLASS;
			else if (!strcmp(optarg, "regression"))
				cfg->task = TASK_REGRESSION;
			else
				die_usage("--task expects binary, multiclass or regression, got '%s'",
					  optarg);
			break;
		case O_NUMERIC:
			cfg->numeric = (int)parse_long(optarg, "--numeric", 0, 100000);
			break;
		case O_CATEGORICAL:
			cfg->categorical = (int)parse_long(optarg, "--categorical", 0, 100000);
			break;
		case O_CLASSES:
			cfg->classes = (int)parse_long(optarg, "--classes", 2, MAX_CLASSES);
			break;
		case O_MISSING:
			cfg->missing = parse_double(optarg, "--missing");
			if (cfg->missing < 0 || cfg->missing > 1)
				die_usage("--missing expects a fraction in [0, 1], got '%s'",
					  optarg);
			break;
		case O_SHIFT:
			add_colmod(&cfg->shift, &cfg->n_shift, optarg, "--shift",
				   "--shift expects xJ=SD, got '%s'");
			break;
		case O_SCALE:
			add_colmod(&cfg->scale, &cfg->n_scale, optarg, "--scale",
				   "--scale expects xJ=FACTOR, got '%s'");
			break;
		case O_MIX:
			*mix_args = realloc(*mix_args, (size_t)(*n_mix + 1) * sizeof(**mix_args));
			if (!*mix_args) {
				perror(progname);
				exit(1);
			}
			(*mix_args)[(*n_mix)++] = optarg;
			break;
		case O_SIGNAL:
			cfg->signal = (int)parse_long(optarg, "--signal", 0, 100000);
			break;
		case O_HEADER:
			cfg->header = 1;
			break;
		case O_NO_HEADER:
			cfg->header = 0;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			die_usage("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected operand '%s'", argv[optind]);
}

/* ---- output ---- */

struct out {
	char *buf;
	size_t len;
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, stdout) != o->len) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n",
			progname, strerror(errno));
		exit(1);
	}
	o->len = 0;
}

/* Make room for `n` bytes. */
static char *out_reserve(struct out *o, size_t n)
{
	if (o->len + n > OUT_BUF)
		out_flush(o);
	return o->buf + o->len;
}

static void out_str(struct out *o, const char *s)
{
	size_t n = strlen(s);
	char *p = out_reserve(o, n);

	memcpy(p, s, n);
	o->len += n;
}

static void out_char(struct out *o, char c)
{
	*out_reserve(o, 1) = c;
	o->len++;
}

static void out_ulong(struct out *o, unsigned long long v)
{
	char tmp[24], *p = out_reserve(o, sizeof(tmp));
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	o->len = (size_t)(p - o->buf);
}

/*
 * Write v rounded to DECIMALS places ("-1.2345", "0.5000"), never "-0.0000".
 * Values too large for exact integer scaling fall back to snprintf.
 */
static void out_fixed(struct out *o, double v)
{
	static const double scale = 1e4;	/* 10^DECIMALS */
	unsigned long long q, ip, fp;
	char *p;
	int i;

	if (!(fabs(v) < 1e14)) {
		p = out_reserve(o, 64);
		o->len += (size_t)snprintf(p, 64, "%.*f", DECIMALS, v);
		return;
	}
	q = (unsigned long long)llround(fabs(v) * scale);
	if (v < 0 && q)
		out_char(o, '-');
	ip = q / (unsigned long long)scale;
	fp = q % (unsigned long long)scale;
	out_ulong(o, ip);
	p = out_reserve(o, DECIMALS + 1);
	*p++ = '.';
	for (i = DECIMALS - 1; i >= 0; i--) {
		p[i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	o->len += DECIMALS + 1;
}

/* ---- generation ---- */

static int pick_level(struct rng *r, int reversed)
{
	double u = rng_uniform(r), acc = 0;
	int k;

	for (k = 0; k < N_LEVELS; k++) {
		acc += level_p[reversed ? N_LEVELS - 1 - k : k];
		if (u < acc)
			return k;
	}
	return N_LEVELS - 1;
}

static void write_header(struct out *o, const struct config *cfg)
{
	int j;

	out_str(o, "id");
	for (j = 1; j <= cfg->numeric; j++) {
		out_str(o, ",x");
		out_ulong(o, (unsigned long long)j);
	}
	for (j = 1; j <= cfg->categorical; j++) {
		out_str(o, ",c");
		out_ulong(o, (unsigned long long)j);
	}
	out_str(o, ",y\n");
}

static void generate(const struct config *cfg)
{
	int K = cfg->numeric, M = cfg->categorical, C = cfg->classes;
	int n_sig = cfg->signal < 0 ? K : cfg->signal;
	double *mean = calloc((size_t)K + 1, sizeof(double));
	double *sd = calloc((size_t)K + 1, sizeof(double));
	double *z = calloc((size_t)K + 1, sizeof(double));
	double *x = calloc((size_t)K + 1, sizeof(double));
	double *w = calloc((size_t)(MAX_CLASSES * (K + N_LEVELS + 1)), sizeof(double));
	int *level = calloc((size_t)M + 1, sizeof(int));
	double score[MAX_CLASSES];
	struct out o;
	struct rng r;
	long row;
	int j, k;

	o.buf = malloc(OUT_BUF);
	o.len = 0;
	if (!mean || !sd || !z || !x || !w || !level || !o.buf) {
		perror(progname);
		exit(1);
	}
	for (j = 1; j <= K; j++) {
		mean[j] = col_mean(j);
		sd[j] = col_sd(j);
	}
	/* Multiclass weights: class k, feature j; the last N_LEVELS for c1. */
	for (k = 0; k < C; k++) {
		for (j = 1; j <= K; j++)
			w[k * (K + N_LEVELS + 1) + j] =
				j <= n_sig ? 1.5 * fixed_coef((unsigned)k, (unsigned)j) : 0.0;
		for (j = 0; j < N_LEVELS; j++)
			w[k * (K + N_LEVELS + 1) + K + 1 + j] =
				fixed_coef((unsigned)k + 1000, (unsigned)j);
	}

	rng_seed(&r, cfg->seed);
	if (cfg->header)
		write_header(&o, cfg);
	for (row = 1; row <= cfg->rows; row++) {
		double eta = 0.0;

		for (j = 1; j <= K; j++) {
			double spread = sd[j], shift = 0.0;
			int m;

			for (m = 0; m < cfg->n_shift; m++)
				if (cfg->shift[m].col == j)
					shift += cfg->shift[m].value * sd[j];
			for (m = 0; m < cfg->n_scale; m++)
				if (cfg->scale[m].col == j)
					spread *= cfg->scale[m].value;
			x[j] = mean[j] + shift + spread * rng_normal(&r);
			/* The label model sees features on the base scale. */
			z[j] = (x[j] - mean[j]) / sd[j];
		}
		for (j = 1; j <= M; j++)
			level[j] = pick_level(&r, cfg->mix[j]);

		out_ulong(&o, (unsigned long long)row);
		for (j = 1; j <= K; j++) {
			out_char(&o, ',');
			if (cfg->missing > 0 && rng_uniform(&r) < cfg->missing)
				continue;
			out_fixed(&o, x[j]);
		}
		for (j = 1; j <= M; j++) {
			out_char(&o, ',');
			out_str(&o, level_name[level[j]]);
		}
		out_char(&o, ',');

		switch (cfg->task) {
		case TASK_BINARY:
			eta = -0.8;
			for (j = 1; j <= n_sig; j++)
				eta += beta(j) * z[j];
			if (M)
				eta += level_effect[level[1]];
			out_char(&o, rng_uniform(&r) < 1.0 / (1.0 + exp(-eta))
				 ? '1' : '0');
			break;
		case TASK_REGRESSION:
			eta = 3.0;
			for (j = 1; j <= n_sig; j++)
				eta += 2.0 * beta(j) * z[j];
			if (M)
				eta += 2.0 * level_effect[level[1]];
			out_fixed(&o, eta + rng_normal(&r));
			break;
		case TASK_MULTICLASS: {
			double max = -HUGE_VAL, sum = 0.0, u, acc = 0.0;
			int pick = C - 1;

			for (k = 0; k < C; k++) {
				const double *wk = w + k * (K + N_LEVELS + 1);

				score[k] = 0.0;
				for (j = 1; j <= n_sig; j++)
					score[k] += wk[j] * z[j];
				if (M)
					score[k] += wk[K + 1 + level[1]];
				if (score[k] > max)
					max = score[k];
			}
			for (k = 0; k < C; k++)
				sum += score[k] = exp(score[k] - max);
			u = rng_uniform(&r) * sum;
			for (k = 0; k < C; k++) {
				acc += score[k];
				if (u < acc) {
					pick = k;
					break;
				}
			}
			out_str(&o, "class_");
			out_char(&o, (char)('a' + pick));
			break;
		}
		}
		out_char(&o, '\n');
	}
	out_flush(&o);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n",
			progname, strerror(errno));
		exit(1);
	}
	free(o.buf);
	free(level);
	free(w);
	free(x);
	free(z);
	free(sd);
	free(mean);
}

int main(int argc, char **argv)
{
	struct config cfg;
	const char **mix_args = NULL;
	int n_mix = 0, i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rows = -1;
	cfg.seed = 1;
	cfg.task = TASK_BINARY;
	cfg.numeric = 5;
	cfg.categorical = 2;
	cfg.classes = 3;
	cfg.signal = -1;
	cfg.header = 1;
	parse_args(argc, argv, &cfg, &mix_args, &n_mix);

	if (cfg.rows < 0)
		die_usage("%s", "--rows is required");
	if (cfg.signal > cfg.numeric) {
		fprintf(stderr, "%s: --signal %d exceeds --numeric %d\n",
			progname, cfg.signal, cfg.numeric);
		return 2;
	}
	for (i = 0; i < cfg.n_shift; i++)
		if (cfg.shift[i].col > cfg.numeric) {
			fprintf(stderr, "%s: --shift names x%d but there are %d numeric columns\n",
				progname, cfg.shift[i].col, cfg.numeric);
			return 2;
		}
	for (i = 0; i < cfg.n_scale; i++)
		if (cfg.scale[i].col > cfg.numeric) {
			fprintf(stderr, "%s: --scale names x%d but there are %d numeric columns\n",
				progname, cfg.scale[i].col, cfg.numeric);
			return 2;
		}
	cfg.mix = calloc((size_t)cfg.categorical + 1, 1);
	if (!cfg.mix) {
		perror(progname);
		return 1;
	}
	for (i = 0; i < n_mix; i++) {
		int j = parse_col(mix_args[i], strlen(mix_args[i]), 'c');

		if (!j)
			die_usage("--mix expects cJ, got '%s'", mix_args[i]);
		if (j > cfg.categorical) {
			fprintf(stderr, "%s: --mix names c%d but there are %d categorical columns\n",
				progname, j, cfg.categorical);
			return 2;
		}
		cfg.mix[j] = 1;
	}

	generate(&cfg);

	free(cfg.mix);
	free(mix_args);
	free(cfg.shift);
	free(cfg.scale);
	return 0;
}
