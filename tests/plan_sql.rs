//! `decant plan --format sql` is what `decant run` sends: each step a run executed (as its
//! report records it) reads, statement for statement, as the plan printed it, orphans included.

use crate::support::setup::{assert_exit, query, Setup};

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total INTEGER NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id), sku TEXT);
INSERT INTO customers VALUES (1, 'ann@example.com'), (2, 'bob@example.com');
INSERT INTO orders VALUES (10, 1, 1250), (11, 2, 990), (13, NULL, 50);
INSERT INTO order_items VALUES (100, 10, 'A'), (101, 11, 'B');
PRAGMA foreign_keys = OFF;
INSERT INTO orders VALUES (14, 99, 700);
INSERT INTO order_items VALUES (103, 14, 'D'), (104, 77, 'E');
";

/// The blocks of `plan --format sql` by step id: each `-- step <id>` line up to the next one.
fn plan_blocks(sql: &str) -> Vec<(String, String)> {
    sql.split("\n-- step ")
        .skip(1)
        .map(|block| {
            let (id, rest) = block.split_once('\n').unwrap_or((block, ""));
            (id.to_owned(), rest.trim_end().to_owned())
        })
        .collect()
}

/// A report step's statements as `plan --format sql` writes a step's.
fn report_block(step: &serde_json::Value) -> String {
    let list = |key: &str| -> Vec<String> {
        step[key]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    for s in list("source_sql") {
        lines.push(format!("-- reads from the source: {s}"));
    }
    for s in list("target_sql") {
        lines.push(format!("{s};"));
        if s.starts_with("COPY ") {
            lines.push("-- (rows streamed by decant)".to_owned());
        }
    }
    lines.join("\n")
}

#[test]
fn plan_sql_is_what_a_run_sends_under_every_orphan_policy() {
    // Rejected rows make a run exit 1; orphans under `fail` stop it (2).
    for (policy, exit) in [("reject", 1), ("skip_constraint", 0), ("fail", 2)] {
        let s = Setup::from_sql(SHOP, &format!("settings: {{ orphans: {policy} }}\n"));
        let plan = s.decant(&["plan", "plan.yaml", "--format", "sql"]);
        assert_exit(&plan, 0);
        let planned = plan_blocks(&plan.stdout);
        let run = s.decant(&["run", "plan.yaml"]);
        assert_exit(&run, exit);
        let report = s.report("plan");
        let ran: Vec<&serde_json::Value> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["source_sql"].is_array() || s["target_sql"].is_array())
            .collect();
        assert!(ran.len() >= 6, "{policy}: {ran:?}");
        for step in &ran {
            let id = step["id"].as_str().unwrap();
            let shown = planned
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, b)| b.as_str());
            assert_eq!(
                shown,
                Some(report_block(step).as_str()),
                "{policy}: step `{id}`:\n{}",
                plan.stdout
            );
        }
        let load = |table: &str| {
            planned
                .iter()
                .find(|(i, _)| i == &format!("load:{table}"))
                .map(|(_, b)| b.clone())
                .unwrap()
        };
        let foreign_keys = planned
            .iter()
            .filter(|(i, _)| i.starts_with("foreign-keys:"))
            .map(|(_, b)| b.as_str())
            .collect::<String>();
        match policy {
            // The loads leave the orphans out, and the rows the run wrote say they did.
            "reject" => {
                assert!(load("orders").contains("NOT EXISTS"), "{}", plan.stdout);
                assert!(
                    load("order_items").contains("NOT EXISTS"),
                    "{}",
                    plan.stdout
                );
                assert_eq!(
                    query(
                        &s.db,
                        "SELECT (SELECT string_agg(id::text, ',' ORDER BY id) FROM public.orders) || '/' || (SELECT string_agg(id::text, ',' ORDER BY id) FROM public.order_items)"
                    ),
                    "10,11,13/100,101"
                );
            }
            // The foreign keys with orphans are not made; the loads read every row.
            "skip_constraint" => {
                assert!(!load("orders").contains("NOT EXISTS"), "{}", plan.stdout);
                assert!(!foreign_keys.contains("FOREIGN KEY"), "{}", plan.stdout);
            }
            // Orphans change nothing a run sends: the loads read every row, the run stops
            // before the foreign keys.
            _ => {
                assert!(!load("orders").contains("NOT EXISTS"), "{}", plan.stdout);
                assert!(foreign_keys.contains("FOREIGN KEY"), "{}", plan.stdout);
                assert!(
                    ran.iter()
                        .all(|s| !s["id"].as_str().unwrap().starts_with("foreign-keys:")),
                    "{ran:?}"
                );
            }
        }
    }
}

#[test]
fn a_copy_template_the_loader_cannot_run_is_refused_by_plan_not_first_by_run() {
    let s = Setup::from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);",
        "templates: sql\n",
    );
    std::fs::create_dir_all(s.path("sql/postgres")).unwrap();
    // CSV: the load's COPY is carried as data (table, columns, freeze), read once from the
    // rendered template, so a COPY the binary loader cannot run is a plan error.
    std::fs::write(
        s.path("sql/postgres/copy_from.sql.j2"),
        "COPY {{ schema | ident }}.{{ table.target | ident }} FROM STDIN (FORMAT csv)",
    )
    .unwrap();
    let plan = s.decant(&["plan", "plan.yaml", "--format", "sql"]);
    assert_exit(&plan, 2);
    assert!(
        plan.stderr.contains("postgres/copy_from.sql.j2")
            && plan
                .stderr
                .contains("is not a binary `COPY … FROM STDIN (FORMAT binary)`"),
        "{}",
        plan.stderr
    );
}

/// Each connection's statements in a `DECANT_TRACE_SQL` file: its URL and what it sent, in order.
fn wire(trace: &str) -> Vec<(String, Vec<String>)> {
    let mut connections: Vec<(u64, String, Vec<String>)> = Vec::new();
    for line in trace.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = event["connection"].as_u64().unwrap();
        if let Some(url) = event["url"].as_str() {
            connections.push((id, url.to_owned(), Vec::new()));
        } else {
            let sql = event["sql"].as_str().unwrap().to_owned();
            let (_, _, sent) = connections.iter_mut().find(|(i, _, _)| *i == id).unwrap();
            sent.push(sql);
        }
    }
    connections.into_iter().map(|(_, u, s)| (u, s)).collect()
}

/// Whether `wanted` was sent by one of `connections`, statement for statement, in that order
/// (other statements, the journal's, may come between).
fn sent_in_order(connections: &[&Vec<String>], wanted: &[String]) -> bool {
    connections.iter().any(|sent| {
        let mut rest = sent.iter();
        wanted.iter().all(|w| rest.any(|s| s == w))
    })
}

#[test]
fn plan_sql_is_the_text_the_connections_send_on_the_wire() {
    for (policy, exit) in [("reject", 1), ("skip_constraint", 0)] {
        let s = Setup::from_sql(SHOP, &format!("settings: {{ orphans: {policy} }}\n"));
        let plan = s.decant(&["plan", "plan.yaml", "--format", "sql"]);
        assert_exit(&plan, 0);
        let trace = s.path("trace.jsonl");
        let run = s.decant_with(
            &["run", "plan.yaml"],
            &[("DECANT_TRACE_SQL", trace.to_str().unwrap())],
        );
        assert_exit(&run, exit);
        let connections = wire(&std::fs::read_to_string(&trace).unwrap());
        let of = |target: bool| -> Vec<&Vec<String>> {
            connections
                .iter()
                .filter(|(url, _)| url.starts_with("postgres") == target)
                .map(|(_, sent)| sent)
                .collect()
        };
        // SQLite's connections open `file:…` URLs.
        let (source, target) = (of(false), of(true));
        assert!(!source.is_empty() && !target.is_empty(), "{connections:?}");
        // The plan printed what the report lists (the test above); here the report's statements
        // are held to what went on the wire, so the plan's are too.
        let report = s.report("plan");
        let planned = plan_blocks(&plan.stdout);
        let mut steps = 0;
        for step in report["steps"].as_array().unwrap() {
            let id = step["id"].as_str().unwrap();
            let list = |key: &str| -> Vec<String> {
                step[key]
                    .as_array()
                    .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default()
            };
            let (reads, writes) = (list("source_sql"), list("target_sql"));
            if reads.is_empty() && writes.is_empty() {
                continue;
            }
            steps += 1;
            assert!(
                planned
                    .iter()
                    .any(|(i, b)| i == id && *b == report_block(step)),
                "{policy}: step `{id}` is not printed by plan as the run reports it"
            );
            assert!(
                sent_in_order(&source, &reads),
                "{policy}: step `{id}`'s reads {reads:#?} are not what a source connection sent: {source:#?}"
            );
            assert!(
                sent_in_order(&target, &writes),
                "{policy}: step `{id}`'s statements {writes:#?} are not what a target connection sent: {target:#?}"
            );
        }
        assert!(steps >= 6, "{policy}: {steps} steps");
    }
}
