// `nextword bench --help`: shared by the bench subcommands, each of which prints it on a usage error.

export const BENCH_HELP = `Usage: nextword bench train <corpus|folder> [model options] [--batches N] [--threads K] [--json]
       nextword bench predict [--model DIR | --layers L --hidden H --vocab V] [--text FILE] [--requests N] [--threads K] [--json]
       nextword bench score --model DIR <files|folders…> [--decoder int8|float32] [--no-cache] [--repeats N] [--threads K] [--json]
       nextword bench errors --model DIR <files|folders…> [--chars N] [--every N] [--seed S] [--margin BITS] [--near-miss P] [--threads K] [--json]

bench train   times N training steps (after 5 warm-up steps) on the given text with the model and
              batch options of \`nextword train\` (--preset, --cell, --layers, --hidden, --embed, --vocab,
              --tie, --dropout, --batch, --bptt, --optimizer, --samples) and prints the median tokens/s, and how
              many GFLOP/s the step's matrix products reach against a plain MatMul on this machine.
bench predict times next-word requests as the editor makes them while a user types: each request
              advances the cached state by one word and takes the top words. Without --model it uses a
              model of the given size with random weights (latency does not depend on the weights).
              With --model it predicts as the editor does: int8 decoder and document cache, unless
              --decoder float32 or --no-cache.
bench score   times scoring the given files as the status bar and \`nextword eval\` do (the model with
              its document cache, on one thread like the editor's scoring session, unless
              --threads) and prints the median tokens/s of
              --repeats passes (default 5), tokenising excluded (printed apart).
bench errors  surprisal as an error finder: puts errors of one kind at a time into the files (typos,
              swapped adjacent words, a word replaced by a frequent wrong one; one per --every words,
              default 100, seeded by --seed) and ranks the words of the first --chars characters of each
              (default 5000) as the editor would (likely typos first, then by surprisal above their
              file's median word), under the model as served, its
              n-gram companion with the document cache, and the training text's word frequencies; prints
              the share of the errors among the top 1 % and 5 % of the words, and what the editor's
              surprising-words rule flags (--margin and --near-miss as in \`nextword surprisal\`).
`;
