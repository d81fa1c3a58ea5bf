//! The `cram` binary: parse flags, call the library, print. Exit codes are
//! documented in the README and in [`cram::Error::exit_code`].

mod cli;

use cli::{drill_loop, repl, term};

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use cram::render::{self, Style};
use cram::{Engine, Event, ExtraNotes, IndexState, OpenOptions, Rebuild};

/// A failure already reported on stdout (e.g. by `cram status`): exit 1, print nothing more.
#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for Failed {}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Failed>() => ExitCode::from(1),
        // `cram ask ... | head`: the reader left; not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = e
                .downcast_ref::<cram::Error>()
                .map_or(1, cram::Error::exit_code);
            eprintln!(
                "cram: error: {}",
                render::sanitize(&one_line(&e)).replace('\n', " ")
            );
            ExitCode::from(code as u8)
        }
    }
}

/// The error and its causes on one line, each cause once: a cause whose
/// text the message already ends with (cram's I/O errors name theirs) is
/// not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !msg.ends_with(&cause) {
            msg.push_str(": ");
            msg.push_str(&cause);
        }
    }
    msg
}

fn run(cli: cli::Cli) -> anyhow::Result<()> {
    init_tracing(cli.global.verbose);
    let paths = cli.global.paths();
    let quiet = cli.global.quiet;
    let style = Style {
        color: cli.global.color(),
        width: cli.global.width()?,
        ..Style::default()
    };
    let page = cli.global.pager();
    let mut progress = Progress::new(quiet);
    let mut on_event = |e: Event| progress.event(e);
    match cli.command.unwrap_or(cli::Command::Repl) {
        cli::Command::Ask(args) => ask(&args, &paths, style, page, &mut on_event)?,
        cli::Command::Index(args) => index(&args, &paths, &mut on_event)?,
        cli::Command::Show { id, format } => {
            let (engine, _) = Engine::open(&paths, &OpenOptions::default(), &mut on_event)?;
            let note = engine.note(&normalize_id(&id))?;
            match format {
                cli::Format::Md => write!(std::io::stdout(), "{}", render::note_markdown(note))?,
                cli::Format::Text => term::emit(&render::note(note, style), page)?,
                cli::Format::Json => {
                    writeln!(std::io::stdout(), "{}", serde_json::to_string(note)?)?
                }
            }
        }
        cli::Command::Eval(args) => eval(*args, &paths, &mut on_event)?,
        cli::Command::Status { json } => {
            let st = cram::study::status::status(&paths, true);
            if json {
                writeln!(std::io::stdout(), "{}", serde_json::to_string(&st)?)?;
            } else {
                write!(std::io::stdout(), "{}", cram::study::status::render(&st))?;
            }
            if !st.ok() {
                return Err(Failed.into());
            }
        }
        cli::Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut cli::Cli::command(),
                "cram",
                &mut std::io::stdout(),
            );
        }
        cli::Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(cli::Cli::command()).render(&mut std::io::stdout())?;
        }
        cli::Command::Repl => {
            let (mut engine, _) =
                Engine::open_loaded(&paths, &OpenOptions::default(), &mut on_event)?;
            let session = repl::Session {
                style: Style {
                    session: true,
                    ..style
                },
                width: cli.global.width,
                page,
            };
            repl::run(&mut engine, cram::SearchParams::default(), session)?;
        }
        cli::Command::Drill(args) => drill(&args, &paths, style, page, &mut on_event)?,
        cli::Command::Mcp => {
            let (engine, _) = Engine::open_loaded(&paths, &OpenOptions::default(), &mut on_event)?;
            tracing::info!(notes = engine.notes().len(), "cram mcp: serving on stdio");
            cram::frontend::mcp::Server::new(engine, paths.clone())
                .serve(std::io::stdin(), std::io::stdout())?;
        }
        cli::Command::Serve(args) => serve(&args, &paths, quiet, &mut on_event)?,
        cli::Command::List => {
            let (engine, _) = Engine::open(&paths, &OpenOptions::default(), &mut on_event)?;
            term::emit(&render::list(engine.notes(), style), page)?;
        }
    }
    Ok(())
}

/// `-v` logs to stderr: once for info, twice for debug, three times for trace.
fn init_tracing(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `cram ask`: one answer, as text, markdown or JSON.
fn ask(
    args: &cli::AskArgs,
    paths: &cram::Paths,
    style: Style,
    page: bool,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let params = args.params();
    params.validate()?;
    let question = args.question();
    cram::config::validate_query(&question)?;
    // The model loads while the index opens (a cold answer is mostly the load).
    let model = (params.mode != cram::Mode::Bm25).then(|| Engine::preload_model(paths));
    let (mut engine, _) = Engine::open(paths, &OpenOptions::default(), on_event)?;
    if let Some(m) = model {
        engine.adopt_model(m);
    }
    let answer = engine.ask(&question, &params)?;
    let mut out = std::io::stdout().lock();
    if args.json || args.format == cli::Format::Json {
        serde_json::to_writer(&mut out, &answer)?;
        writeln!(out)?;
    } else if args.format == cli::Format::Md {
        write!(out, "{}", render::answer_markdown(&answer))?;
    } else {
        drop(out);
        let style = Style {
            explain: args.explain,
            full: args.full,
            ..style
        };
        term::emit(&render::answer(&answer, style), page)?;
    }
    Ok(())
}

/// `cram index`: build or update the index and say what was done.
fn index(
    args: &cli::IndexArgs,
    paths: &cram::Paths,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let extra = if args.only_bundled {
        ExtraNotes::Set(Vec::new())
    } else if args.notes.is_empty() {
        ExtraNotes::Keep
    } else {
        ExtraNotes::Set(args.notes.clone())
    };
    let opts = OpenOptions {
        extra,
        rebuild: if args.force {
            Rebuild::Always
        } else {
            Rebuild::IfStale
        },
        fail_if_locked: true,
    };
    let started = Instant::now();
    let (engine, state) = Engine::open(paths, &opts, on_event)?;
    if matches!(state, IndexState::Fresh) {
        cram::index::IndexDir::new(&paths.index).tidy()?;
    }
    let m = &engine.generation().manifest;
    if args.json {
        let v = serde_json::json!({
            "schema": "cram.index/1",
            "rebuilt": matches!(state, IndexState::Built(_)),
            "path": engine.generation().dir,
            "fingerprint": m.fingerprint,
            "notes": m.notes,
            "chunks": m.chunks,
            "embedded": if matches!(state, IndexState::Built(_)) { m.embedded } else { 0 },
            "seconds": started.elapsed().as_secs_f64(),
            "sources": m.sources,
        });
        writeln!(std::io::stdout(), "{v}")?;
        return Ok(());
    }
    let what = match state {
        IndexState::Built(_) => {
            format!(
                "built: embedded {} new texts (passages, titles, key-point sentences)",
                m.embedded
            )
        }
        IndexState::Fresh => "already up to date".to_string(),
        IndexState::StaleLocked => {
            "another build is running; this is the previous index".to_string()
        }
    };
    writeln!(
        std::io::stdout(),
        "index {what}: {} notes, {} passages in {:.1} s ({})",
        m.notes,
        m.chunks,
        started.elapsed().as_secs_f64(),
        engine.generation().dir.display()
    )?;
    Ok(())
}

/// `cram drill`: a spaced-repetition session, or its statistics.
fn drill(
    args: &cli::DrillArgs,
    paths: &cram::Paths,
    style: Style,
    page: bool,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    args.validate()?;
    let opts = drill_loop::Options {
        sections: args.section.clone(),
        count: args.count,
        ahead: args.ahead,
        key_points: args.key_points,
        progress: args
            .progress
            .clone()
            .unwrap_or_else(cram::study::drill::Progress::default_path),
    };
    let (mut engine, _) = Engine::open(paths, &OpenOptions::default(), on_event)?;
    if args.stats {
        drill_loop::stats(&engine, &opts, args.json, style, page)?;
    } else {
        drill_loop::run(&mut engine, &opts, style)?;
    }
    Ok(())
}

fn eval(
    args: cli::EvalArgs,
    paths: &cram::Paths,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let base = cram::SearchParams {
        k: args.k,
        alpha: args.alpha,
        mmr_lambda: Some(args.mmr_lambda),
        bm25: args.bm25.params(),
        ..Default::default()
    };
    base.validate()?;
    args.rm3.validate()?;
    args.rocchio.validate()?;
    let bad = |name: &'static str, reason: String| cram::Error::InvalidParam { name, reason };
    if args.fetch_k == 0 || args.fetch_k > 10_000 {
        return Err(bad(
            "--fetch-k",
            format!("{} is out of range 1..=10000", args.fetch_k),
        )
        .into());
    }
    if let Some(a) = args.alpha_sweep.iter().find(|a| !(0.0..=1.0).contains(*a)) {
        return Err(bad("--alpha-sweep", format!("{a} is outside [0, 1]")).into());
    }
    if args.resamples > 1_000_000 {
        return Err(bad(
            "--resamples",
            format!("{} is above 1000000", args.resamples),
        )
        .into());
    }
    if args.limit_queries == Some(0) {
        return Err(bad("--limit-queries", "must be at least 1".into()).into());
    }
    match args.beir.clone() {
        Some(dir) if !args.models.is_empty() => eval_models(&args, &dir, base, paths, on_event),
        Some(dir) => eval_beir(&args, &dir, base, paths, on_event),
        None => eval_notes(args, base, paths, on_event),
    }
}

/// `cram eval --beir DIR`: every method on a BEIR collection.
fn eval_beir(
    args: &cli::EvalArgs,
    dir: &std::path::Path,
    base: cram::SearchParams,
    paths: &cram::Paths,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let opts = cram::eval::BeirOptions {
        methods: args.methods.clone(),
        base,
        fetch_k: args.fetch_k,
        alpha_sweep: args.alpha_sweep.clone(),
        resamples: args.resamples,
        cache_dir: cram::config::cram_home().join("cache").join("embeddings"),
        run_out: args.run_out.clone(),
        rm3: args.rm3,
        rocchio: args.rocchio,
    };
    cram::eval::check_options(&opts)?;
    let mut coll = cram::eval::beir::Collection::load(dir)?;
    if let Some(n) = args.limit_queries {
        coll.limit_queries(n);
    }
    let mut embedder =
        cram::index::embed::Embedder::load(&paths.model_dir, paths.ort_lib.as_deref())?;
    let report = cram::eval::evaluate_beir(&coll, &mut embedder, &opts, on_event)?;
    if let Some(path) = &args.report {
        let page = cram::eval::report::html(&report).map_err(anyhow::Error::msg)?;
        std::fs::write(path, page)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        on_event(Event::Notice(format!(
            "report written to {}",
            path.display()
        )));
    }
    if args.json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string(&report)?)?;
    } else {
        write!(std::io::stdout(), "{}", cram::eval::beir_markdown(&report))?;
    }
    Ok(())
}

/// `cram eval --beir DIR --models a,b`: embedding models side by side.
fn eval_models(
    args: &cli::EvalArgs,
    dir: &std::path::Path,
    base: cram::SearchParams,
    paths: &cram::Paths,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let mut coll = cram::eval::beir::Collection::load(dir)?;
    if let Some(n) = args.limit_queries {
        coll.limit_queries(n);
    }
    let opts = cram::eval::models::ModelsOptions {
        models: (args.models.iter())
            .map(|m| (m.display().to_string(), cram::index::model::resolve(m)))
            .collect(),
        ort_lib: paths.ort_lib.clone(),
        beir: cram::eval::BeirOptions {
            methods: Vec::new(),
            base,
            fetch_k: args.fetch_k,
            alpha_sweep: Vec::new(),
            resamples: args.resamples,
            cache_dir: cram::config::cram_home().join("cache").join("embeddings"),
            run_out: None,
            rm3: args.rm3,
            rocchio: args.rocchio,
        },
        throughput_docs: 256,
        cold_starts: 5,
    };
    let report = cram::eval::models::compare_models(&coll, &opts, on_event)?;
    if args.json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string(&report)?)?;
    } else {
        write!(
            std::io::stdout(),
            "{}",
            cram::eval::models::models_markdown(&report)
        )?;
    }
    Ok(())
}

/// `cram eval --fit-abstention`: fits the abstention model on the labelled
/// queries and prints held-out rates and the weights.
fn fit_abstention(
    engine: &mut Engine,
    args: &cli::EvalArgs,
    dev: &[cram::eval::DevQuery],
    realistic: &[cram::eval::quality::RealQuery],
    off: &[String],
    base: &cram::SearchParams,
) -> anyhow::Result<()> {
    let ex = cram::eval::quality::abstention_examples(engine, dev, realistic, off, base)?;
    if let Some(path) = &args.features_out {
        let mut tsv = format!(
            "covered\t{}\tquery\n",
            cram::retrieval::abstain::FEATURES.join("\t")
        );
        for e in &ex {
            let xs: Vec<String> = e.x.iter().map(|v| format!("{v:.4}")).collect();
            tsv.push_str(&format!(
                "{}\t{}\t{}\n",
                u8::from(e.covered),
                xs.join("\t"),
                e.query
            ));
        }
        write_file(path, &tsv)?;
    }
    let r = cram::eval::quality::cross_validate(&ex);
    let mut out = std::io::stdout();
    writeln!(
        out,
        "{} labelled queries; five-fold cross-validation grouped by note:\n\
         at the threshold in use ({}):\n\
         covered queries abstained on: {:.3} held out (weights in use: {:.3})\n\
         uncovered queries abstained on: {:.3} held out (weights in use: {:.3})\n\
         weights fitted on all ({}):\npub const WEIGHTS: [f32; N_FEATURES + 1] = {:?};",
        r.examples,
        cram::retrieval::abstain::THRESHOLD,
        r.cv_covered_abstained,
        r.current_covered_abstained,
        r.cv_uncovered_abstained,
        r.current_uncovered_abstained,
        weight_names(&cram::retrieval::abstain::FEATURES),
        r.weights
    )?;
    let near = cram::eval::quality::outside_near_notes(engine.generation(), OUTSIDE_CHECK);
    writeln!(
        out,
        "outside topics at cosine {OUTSIDE_CHECK} or more to a note's question and tags \
         (check that the note is not about them): {}",
        near.len()
    )?;
    for n in &near {
        writeln!(out, "  {:.2}  {}  {}", n.cosine, n.note, n.topic)?;
    }
    Ok(())
}

/// Cosine from which `--fit-abstention` lists an outside topic as near a note.
const OUTSIDE_CHECK: f32 = 0.4;

/// "intercept, feature, ...": the order of a fitted `WEIGHTS` array.
fn weight_names(features: &[&str]) -> String {
    ["intercept"]
        .iter()
        .chain(features)
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a `--features-out` file.
fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}

/// `cram eval --fit-key-points`: fits the key-point model on the answer
/// labels and prints held-out rates and the weights.
fn fit_key_points(
    engine: &mut Engine,
    args: &cli::EvalArgs,
    labels: &[cram::eval::quality::AnswerLabel],
    base: &cram::SearchParams,
) -> anyhow::Result<()> {
    let ex = cram::eval::quality::key_point_examples(engine, labels, base)?;
    if let Some(path) = &args.features_out {
        // One JSON object per labelled query: the query, its fold, per
        // candidate its sentence, position, features and whether it
        // answers, and their cosines.
        let mut lines = String::new();
        for e in &ex {
            let c = &e.pool.candidates;
            let v = serde_json::json!({
                "query": e.query,
                "fold": e.fold,
                "texts": e.pool.texts,
                "features": cram::retrieval::keypoints::FEATURES,
                "at": c.iter().map(|c| [c.at.0, c.at.1]).collect::<Vec<_>>(),
                "x": c.iter().map(|c| c.x.to_vec()).collect::<Vec<_>>(),
                "answers": e.answers,
                "judged": e.judged,
                "sims": e.pool.sims,
            });
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
        write_file(path, &lines)?;
    }
    let r = cram::eval::quality::cross_validate_key_points(&ex, base.key_points);
    writeln!(
        std::io::stdout(),
        "{} labelled queries answered; five-fold cross-validation grouped by note:\n\
         an answer sentence among the candidates: {:.3}\n\
         key points contain the labelled answer sentence: {:.3} held out (weights in use: {:.3})\n\
         key points contain a sentence assessors judged to answer: {:.3} held out (weights in use: {:.3}; \
         {} judged)\n\
         weights fitted on all ({}):\npub const WEIGHTS: [f32; N_FEATURES + 1] = {:?};",
        r.queries,
        r.reachable,
        r.cv_answered,
        r.current_answered,
        r.cv_judged,
        r.current_judged,
        r.judged_queries,
        weight_names(&cram::retrieval::keypoints::FEATURES),
        r.weights
    )?;
    Ok(())
}

/// `cram eval --fit-closest`: the closest-question model's held-out fit.
fn fit_closest(
    engine: &mut Engine,
    args: &cli::EvalArgs,
    dev: &[cram::eval::DevQuery],
    realistic: &[cram::eval::quality::RealQuery],
    base: &cram::SearchParams,
) -> anyhow::Result<()> {
    let ex = cram::eval::quality::closest_examples(engine, dev, realistic, base)?;
    if let Some(path) = &args.features_out {
        // One JSON object per query: its set and fold, per candidate note
        // its id, features and whether it is acceptable.
        let mut lines = String::new();
        for e in &ex {
            let v = serde_json::json!({
                "query": e.query,
                "set": e.set,
                "fold": e.fold,
                "features": cram::retrieval::closest::FEATURES,
                "notes": e.cands.iter().map(|c| c.note.as_str()).collect::<Vec<_>>(),
                "x": e.cands.iter().map(|c| c.x.to_vec()).collect::<Vec<_>>(),
                "ok": e.ok,
            });
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
        write_file(path, &lines)?;
    }
    let r = cram::eval::quality::cross_validate_closest(&ex);
    let mut out = String::from(
        "closest@1 over the queries `ask` answers (hybrid), five-fold cross-validation grouped by note \
         (the last column: an acceptable note is among the candidates, the model's ceiling):\n\
         | set | queries | fused order | fitted, held out | weights in use | among the candidates |\n\
         |---|---|---|---|---|---|\n",
    );
    for (name, n, fused, held, current) in &r.sets {
        let of_set: Vec<_> = ex
            .iter()
            .filter(|e| e.set == *name || (name == "realistic" && e.set != "dev"))
            .collect();
        let among = of_set.iter().filter(|e| e.ok.contains(&true)).count() as f64
            / of_set.len().max(1) as f64;
        out.push_str(&format!(
            "| {name} | {n} | {fused:.3} | {held:.3} | {current:.3} | {among:.3} |\n"
        ));
    }
    out.push_str(&format!(
        "weights fitted on all ({}):\npub const WEIGHTS: [f32; N_FEATURES + 1] = {:?};\n",
        weight_names(&cram::retrieval::closest::FEATURES),
        r.weights
    ));
    write!(std::io::stdout(), "{out}")?;
    Ok(())
}

/// The query sets `cram eval` measures on the notes.
struct NotesSets {
    dev: Vec<cram::eval::DevQuery>,
    off: Vec<String>,
    /// Empty when the file is absent, as are the sets below.
    realistic: Vec<cram::eval::quality::RealQuery>,
    holdout: Vec<cram::eval::quality::RealQuery>,
    labels: Vec<cram::eval::quality::AnswerLabel>,
    holdout_judgments: Option<cram::eval::quality::ShownJudgments>,
    standalone: Option<cram::eval::quality::StandaloneJudgments>,
    also: Option<cram::eval::quality::AlsoJudgments>,
}

impl NotesSets {
    /// Reads the files `args` names, else the project's `tests/data`.
    fn load(args: &cli::EvalArgs) -> anyhow::Result<NotesSets> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let dev = cram::eval::load_dev_queries(
            &args.queries.clone().unwrap_or(root.join("dev_queries.tsv")),
        )?;
        let off =
            cram::eval::load_lines(&args.offtopic.clone().unwrap_or(root.join("offtopic.txt")))?;
        // The labelled sets are optional: a checkout without tests/data
        // skips them, but a file named on the command line must be there.
        let optional = |given: &Option<std::path::PathBuf>, default: &str| match given {
            Some(path) => Some(path.clone()),
            None => Some(root.join(default)).filter(|path| path.exists()),
        };
        let real = |given, default| -> anyhow::Result<Vec<cram::eval::quality::RealQuery>> {
            Ok(match optional(given, default) {
                Some(p) => cram::eval::quality::load_realistic(&p)?,
                None => Vec::new(),
            })
        };
        let realistic = real(&args.realistic, "realistic_queries.tsv")?;
        let holdout = real(&args.holdout, "holdout_queries.tsv")?;
        let mut labels = match optional(&args.labels, "answer_labels.tsv") {
            Some(p) => cram::eval::quality::load_labels(&p)?,
            None => Vec::new(),
        };
        if let Some(p) = optional(&args.judgments, "answer_judgments.tsv") {
            cram::eval::quality::load_judgments(&p, &mut labels)?;
        }
        // The bundled verdicts are on the bundled held-out queries: another
        // held-out file takes only verdicts given with it.
        let holdout_judgments = match (&args.holdout, &args.holdout_judgments) {
            (Some(_), None) => None,
            _ => optional(&args.holdout_judgments, "holdout_keypoint_judgments.tsv"),
        }
        .map(|p| cram::eval::quality::load_shown_judgments(&p))
        .transpose()?;
        let standalone = optional(&args.standalone_judgments, "keypoint_standalone.tsv")
            .map(|p| cram::eval::quality::load_standalone_judgments(&p))
            .transpose()?;
        let also = optional(&args.also_judgments, "also_judgments.tsv")
            .map(|p| cram::eval::quality::load_also_judgments(&p))
            .transpose()?;
        Ok(NotesSets {
            dev,
            off,
            realistic,
            holdout,
            labels,
            holdout_judgments,
            standalone,
            also,
        })
    }
}

/// `cram eval` on the notes: the method table, the realistic set, key points,
/// or with `--fit-abstention` the abstention model's fit.
fn eval_notes(
    args: cli::EvalArgs,
    base: cram::SearchParams,
    paths: &cram::Paths,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let sets = NotesSets::load(&args)?;
    let (dev, off, labels) = (&sets.dev, &sets.off, &sets.labels);
    let (mut engine, _) = Engine::open_loaded(paths, &OpenOptions::default(), on_event)?;
    if args.fit_abstention {
        return fit_abstention(&mut engine, &args, dev, &sets.realistic, off, &base);
    }
    if args.fit_key_points {
        return fit_key_points(&mut engine, &args, labels, &base);
    }
    if args.fit_closest {
        return fit_closest(&mut engine, &args, dev, &sets.realistic, &base);
    }
    let scores = if args.realistic_only {
        Vec::new()
    } else {
        let mut methods = cram::eval::standard_methods(&base);
        methods.extend(cram::eval::feedback_methods(&base, args.rm3, args.rocchio));
        cram::eval::evaluate_notes(&mut engine, dev, off, &methods)?
    };
    let mut measure = |queries: &[cram::eval::quality::RealQuery], off: &[String]| {
        if queries.is_empty() {
            return Ok(None);
        }
        let standalone = sets.standalone.as_ref();
        let mut r =
            cram::eval::quality::evaluate_realistic(&mut engine, queries, off, standalone, &base)?;
        r.session = Some(cram::eval::quality::evaluate_session(
            &mut engine,
            queries,
            dev,
            off,
            &base,
        )?);
        anyhow::Ok(Some(r))
    };
    let real = measure(&sets.realistic, off)?;
    // The held-out set is only ever measured: no fit above reads it.
    let held = measure(&sets.holdout, &[])?;
    let held_kp = sets
        .holdout_judgments
        .as_ref()
        .map(|j| cram::eval::quality::evaluate_shown_judgments(&mut engine, j, &base))
        .transpose()?;
    let kp = if labels.is_empty() {
        None
    } else {
        Some(cram::eval::quality::evaluate_key_points(
            &mut engine,
            labels,
            sets.standalone.as_ref(),
            &base,
        )?)
    };
    let also = sets
        .also
        .as_ref()
        .map(|j| cram::eval::quality::evaluate_also(&mut engine, j, &base))
        .transpose()?;
    print_notes_report(
        &args,
        &NotesReport {
            scores,
            real,
            held,
            held_kp,
            kp,
            also,
        },
    )
}

/// Everything `cram eval` measured on the notes.
struct NotesReport {
    scores: Vec<cram::eval::NotesScore>,
    real: Option<cram::eval::quality::RealisticReport>,
    held: Option<cram::eval::quality::RealisticReport>,
    held_kp: Option<cram::eval::quality::ShownScore>,
    kp: Option<cram::eval::quality::KeyPointScore>,
    also: Option<cram::eval::quality::AlsoScore>,
}

/// Prints `r` as one JSON object, or as tables (and each miss with
/// `--misses`).
fn print_notes_report(args: &cli::EvalArgs, r: &NotesReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    if args.json {
        let v = serde_json::json!({
            "schema": "cram.eval.notes/9",
            "methods": r.scores,
            "realistic": r.real,
            "holdout": r.held,
            "holdout_key_points": r.held_kp,
            "key_points": r.kp,
            "also": r.also,
        });
        writeln!(out, "{v}")?;
        return Ok(());
    }
    write!(out, "{}", cram::eval::notes_table(&r.scores))?;
    let file = |given: &Option<std::path::PathBuf>, default: &str| {
        given
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("tests/data").join(default))
            .display()
            .to_string()
    };
    if let Some(real) = &r.real {
        let title = format!(
            "Realistic queries ({})",
            file(&args.realistic, "realistic_queries.tsv")
        );
        let table = cram::eval::quality::realistic_table(&title, real, r.kp.as_ref());
        write!(out, "{table}")?;
    }
    if let Some(held) = &r.held {
        let title = format!(
            "Held-out queries ({}; written blind, never fitted on)",
            file(&args.holdout, "holdout_queries.tsv")
        );
        write!(
            out,
            "{}",
            cram::eval::quality::realistic_table(&title, held, None)
        )?;
    }
    if let Some(k) = &r.held_kp {
        writeln!(
            out,
            "\nKey points on {} held-out queries, judged as shown ({}): {:.1}% hold one that answers, and \
             {:.1}% of the key points answer; {:.1}% of the key points shown now were judged.",
            k.queries,
            file(&args.holdout_judgments, "holdout_keypoint_judgments.tsv"),
            100.0 * k.answered,
            100.0 * k.precision,
            100.0 * k.judged_share
        )?;
    }
    if let Some(a) = &r.also {
        writeln!(
            out,
            "\n\"also:\" lines ({}): {} of the {} judged queries show one now, {} with the judged second \
             question, of which {:.1}% help, by assessors' verdicts.",
            file(&args.also_judgments, "also_judgments.tsv"),
            a.shown,
            a.queries,
            a.judged,
            100.0 * a.useful
        )?;
    }
    if args.misses {
        print_misses(
            &mut out,
            &r.scores,
            [("realistic", &r.real), ("holdout", &r.held)],
            &r.kp,
        )?;
    }
    Ok(())
}

/// `cram eval --misses`: each failure on one line, prefixed by its method or set.
fn print_misses(
    out: &mut impl Write,
    scores: &[cram::eval::NotesScore],
    sets: [(&str, &Option<cram::eval::quality::RealisticReport>); 2],
    kp: &Option<cram::eval::quality::KeyPointScore>,
) -> std::io::Result<()> {
    for s in scores {
        for m in &s.misses {
            writeln!(out, "{}\t{m}", s.method)?;
        }
    }
    for (name, r) in sets {
        for k in r.iter().flat_map(|r| &r.kinds) {
            for m in &k.misses {
                writeln!(out, "{name}\t{m}")?;
            }
        }
    }
    for m in kp.iter().flat_map(|k| &k.misses) {
        writeln!(out, "key-points\t{m}")?;
    }
    Ok(())
}

/// `cram serve`: loads the engine once, prints the URL (and a warning when
/// listening beyond this machine), serves until Ctrl-C.
fn serve(
    args: &cli::ServeArgs,
    paths: &cram::Paths,
    quiet: bool,
    on_event: &mut dyn FnMut(Event),
) -> anyhow::Result<()> {
    let opts = args.options()?;
    let (engine, _) = Engine::open_loaded(paths, &OpenOptions::default(), on_event)?;
    let loopback = opts.addr.ip().is_loopback();
    cram::frontend::serve::run(engine, paths.clone(), opts, |l| {
        if !loopback {
            eprintln!(
                "cram: warning: listening on {}: anyone who can reach this machine on that network can read \
                 your notes and change your drill progress; leave out --listen to keep the page on this computer",
                l.addr
            );
        }
        // The URL is the result: stdout, even with --quiet, flushed at once.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", l.url);
        let _ = out.flush();
        if !quiet {
            eprintln!("cram: serving the notes at {} (Ctrl-C stops)", l.url);
        }
    })?;
    Ok(())
}

pub(crate) use cram::index::corpus::normalize_id;

/// Notices and embedding progress on stderr. The bar (rate and ETA) is drawn
/// only on a terminal and never with `--quiet`; otherwise one summary line.
struct Progress {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    started: Option<Instant>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress {
            quiet,
            bar: None,
            started: None,
        }
    }

    fn event(&mut self, e: Event) {
        if self.quiet {
            return;
        }
        match e {
            Event::Notice(s) => match &self.bar {
                Some(b) => b.println(format!("cram: {}", render::sanitize(&s))),
                None => eprintln!("cram: {}", render::sanitize(&s)),
            },
            Event::Embedding { done, total } => {
                let started = *self.started.get_or_insert_with(Instant::now);
                if std::io::stderr().is_terminal() {
                    let bar = self.bar.get_or_insert_with(|| {
                        let b = indicatif::ProgressBar::new(total as u64);
                        b.set_style(
                            indicatif::ProgressStyle::with_template(
                                "cram: embedding {bar:30} {pos}/{len} texts, {rate}, ETA {eta}",
                            )
                            .expect("valid template")
                            .with_key(
                                "rate",
                                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                    let _ = write!(w, "{:.1}/s", s.per_sec());
                                },
                            ),
                        );
                        b
                    });
                    bar.set_position(done as u64);
                }
                if done == total {
                    if let Some(b) = self.bar.take() {
                        b.finish_and_clear();
                    }
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    eprintln!(
                        "cram: embedded {total} texts in {secs:.1} s ({:.1}/s)",
                        total as f64 / secs
                    );
                    self.started = None;
                }
            }
        }
    }
}
