//! Reading a BEIR-layout test collection: `corpus.jsonl` (`_id`, `title`,
//! `text`), `queries.jsonl` (`_id`, `text`) and `qrels/test.tsv`
//! (`query-id<TAB>corpus-id<TAB>score`, with a header line).
//!
//! Following the protocol behind published numbers (BEIR, MTEB, Anserini
//! "flat"): a document is indexed as `title + " " + text`, and only queries
//! that appear in the qrels are scored.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};
use crate::eval::metrics::Qrels;

/// A loaded collection.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection's folder name (e.g. `scifact`).
    pub name: String,
    /// Document ids, in file order; position = ordinal.
    pub doc_ids: Vec<String>,
    /// Document texts (`title + " " + text`), aligned with `doc_ids`.
    pub doc_texts: Vec<String>,
    /// Test queries (those with judgments), sorted by id: (id, text).
    pub queries: Vec<(String, String)>,
    /// Judgments per query id.
    pub qrels: BTreeMap<String, Qrels>,
}

#[derive(Deserialize)]
struct DocLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

fn bad(path: &Path, line: usize, reason: impl std::fmt::Display) -> Error {
    Error::InvalidParam {
        name: "--beir",
        reason: format!("{}:{line}: {reason}", path.display()),
    }
}

fn lines(path: &Path) -> Result<impl Iterator<Item = (usize, std::io::Result<String>)>> {
    let f = std::fs::File::open(path).ctx("opening", path)?;
    Ok(std::io::BufReader::new(f)
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l)))
}

impl Collection {
    /// Loads the collection in `dir`.
    pub fn load(dir: &Path) -> Result<Collection> {
        if !dir.is_dir() {
            return Err(Error::InvalidParam {
                name: "--beir",
                reason: format!("{} is not a folder", dir.display()),
            });
        }
        let corpus = dir.join("corpus.jsonl");
        let mut doc_ids = Vec::new();
        let mut doc_texts = Vec::new();
        for (n, line) in lines(&corpus)? {
            let line = line.ctx("reading", &corpus)?;
            if line.trim().is_empty() {
                continue;
            }
            let d: DocLine = serde_json::from_str(&line).map_err(|e| bad(&corpus, n, e))?;
            let text = match (d.title.trim().is_empty(), d.text.trim().is_empty()) {
                (true, _) => d.text,
                (false, true) => d.title,
                (false, false) => format!("{} {}", d.title, d.text),
            };
            doc_ids.push(d.id);
            doc_texts.push(text);
        }
        let qrels_path: PathBuf = dir.join("qrels").join("test.tsv");
        let mut qrels: BTreeMap<String, Qrels> = BTreeMap::new();
        for (n, line) in lines(&qrels_path)? {
            let line = line.ctx("reading", &qrels_path)?;
            let cols: Vec<&str> = line.split('\t').collect();
            if n == 1 && cols.first().is_some_and(|c| c.starts_with("query"))
                || line.trim().is_empty()
            {
                continue;
            }
            if cols.len() < 3 {
                return Err(bad(
                    &qrels_path,
                    n,
                    "expected query-id<TAB>corpus-id<TAB>score",
                ));
            }
            let grade: i32 = cols[2].trim().parse().map_err(|e| bad(&qrels_path, n, e))?;
            qrels
                .entry(cols[0].to_string())
                .or_default()
                .insert(cols[1].to_string(), grade);
        }
        let queries_path = dir.join("queries.jsonl");
        let mut texts: HashMap<String, String> = HashMap::new();
        for (n, line) in lines(&queries_path)? {
            let line = line.ctx("reading", &queries_path)?;
            if line.trim().is_empty() {
                continue;
            }
            let q: QueryLine = serde_json::from_str(&line).map_err(|e| bad(&queries_path, n, e))?;
            texts.insert(q.id, q.text);
        }
        let mut queries = Vec::with_capacity(qrels.len());
        for id in qrels.keys() {
            match texts.get(id) {
                Some(t) => queries.push((id.clone(), t.clone())),
                None => {
                    return Err(bad(
                        &queries_path,
                        0,
                        format!("query {id} has judgments but no text"),
                    ));
                }
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "collection".into());
        Ok(Collection {
            name,
            doc_ids,
            doc_texts,
            queries,
            qrels,
        })
    }

    /// Keeps only the first `n` test queries (for quick runs).
    pub fn limit_queries(&mut self, n: usize) {
        self.queries.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_tiny_collection() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("corpus.jsonl"),
            "{\"_id\":\"d1\",\"title\":\"T\",\"text\":\"body\"}\n{\"_id\":\"d2\",\"text\":\"only text\"}\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("queries.jsonl"),
            "{\"_id\":\"q1\",\"text\":\"first\"}\n{\"_id\":\"q2\",\"text\":\"unjudged\"}\n",
        )
        .unwrap();
        std::fs::create_dir(d.path().join("qrels")).unwrap();
        std::fs::write(
            d.path().join("qrels/test.tsv"),
            "query-id\tcorpus-id\tscore\nq1\td2\t1\n",
        )
        .unwrap();
        let c = Collection::load(d.path()).unwrap();
        assert_eq!(c.doc_texts, vec!["T body", "only text"]);
        assert_eq!(c.queries, vec![("q1".to_string(), "first".to_string())]);
        assert_eq!(c.qrels["q1"]["d2"], 1);
        assert!(Collection::load(&d.path().join("missing")).is_err());
    }
}
