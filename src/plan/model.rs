//! The plan file as Rust types: every section of the version-1 contract.
//! These types are the single source of truth for `schemas/plan.schema.json`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A decant plan: how one database moves to another engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Version of the plan format; always 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// A short name for the migration, used in reports and the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the data comes from. Opened read-only.
    pub source: Source,
    /// Where the data goes.
    pub target: Target,
    /// How the run behaves.
    #[serde(default)]
    pub settings: Settings,
    /// How source identifiers become target identifiers.
    #[serde(default)]
    pub naming: Naming,
    /// Which tables to carry and what to call them.
    #[serde(default)]
    pub tables: Tables,
    /// Type rules, first match wins, applied on top of the built-in defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<TypeRule>,
    /// Per-column overrides, keyed by `table.column` (source names).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub columns: IndexMap<String, ColumnOverride>,
    /// Which rows to carry: a predicate in the source's SQL, keyed by source table name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub filters: IndexMap<String, String>,
    /// Extra indexes to create in the target after the load.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<ExtraIndex>,
    /// Extra steps, placed in the step graph by their `before`/`after` dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Checks that prove the target holds what the plan says it should.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// A folder (relative to the plan file) whose `<dialect>/<operation>.sql.j2` files override
    /// decant's built-in templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<String>,
}

/// The source database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `sqlite://relative/to/plan.db` or `sqlite:///absolute/path.db`; `${VAR}` and
    /// `${VAR:-default}` are filled from the environment.
    pub url: String,
}

/// The target database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// `postgres://user:password@host:port/database?sslmode=...`; `${VAR}` and `${VAR:-default}`
    /// are filled from the environment. The password is never printed.
    pub url: String,
    /// The target schema the tables are created in.
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Who makes the target's tables: `decant` (from the source and the type rules) or `app`
    /// (the application's migrator, often a plan step; decant then only loads, into the
    /// columns' real types, and checks the plan against the app's schema).
    #[serde(default)]
    pub owner: SchemaOwner,
    /// With `owner: app`: the app's schema as `decant snapshot` wrote it, relative to the
    /// plan; `validate` and `plan` check against it offline, `run` compares it with the live
    /// schema before any row moves. Default: `<plan file stem>.schema.json` beside the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// Who makes the target's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchemaOwner {
    /// decant creates tables, keys, indexes and foreign keys from the source.
    #[default]
    Decant,
    /// The application's migrator does; decant moves the data into that schema.
    App,
}

fn default_schema() -> String {
    "public".to_owned()
}

/// How a run behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What to do when a target table already exists.
    #[serde(default)]
    pub if_exists: IfExists,
    /// What to do with a row that cannot be converted to the target types.
    #[serde(default)]
    pub on_bad_row: OnBadRow,
    /// When primary keys, unique constraints, indexes and foreign keys are created.
    #[serde(default)]
    pub constraints: ConstraintTiming,
    /// How many steps may run at once where the step graph allows.
    #[serde(default = "default_workers")]
    #[schemars(range(min = 1, max = 64))]
    pub workers: u32,
    /// What to do, before loading, with source rows whose foreign key points at no carried row
    /// (SQLite does not enforce foreign keys by default). Rows are never deleted silently.
    #[serde(default)]
    pub orphans: OrphanPolicy,
    /// With `target.owner: app`, what happens to the app's secondary indexes and foreign keys
    /// while a table loads: `rebuild` drops them and re-creates them with their exact
    /// definitions in the load's transaction; `keep` loads with them in place (measured about
    /// 4× slower on the bench database: tests/bench/app_schema.sh).
    #[serde(default)]
    pub existing_keys: ExistingKeys,
    /// With `target.owner: app`, per source table, what the app's triggers do during its load
    /// and syncs: `off` (the default) turns them off, so values arrive as the source has them;
    /// `keep` lets them fire for every row, so a column only a trigger fills (a search vector,
    /// a slug) is filled, at the cost of running the trigger per row.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub app_triggers: IndexMap<String, AppTriggers>,
    /// The plan also runs backwards (`decant sync --reverse`, the way back after a cutover):
    /// `validate` then refuses every column whose transform has no inverse (an expression
    /// transform without `inverse:`), naming each one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reversible: bool,
}

/// What a load does with the app's triggers on one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppTriggers {
    /// Turned off for the load (needs the table's owner), on again before it commits.
    #[default]
    Off,
    /// Left on: they fire for every loaded row.
    Keep,
}

/// What a load does with the app's secondary indexes and foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExistingKeys {
    /// Drop them for the load, re-create them before it commits.
    #[default]
    Rebuild,
    /// Leave them in place.
    Keep,
}

fn default_workers() -> u32 {
    2
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            if_exists: IfExists::default(),
            on_bad_row: OnBadRow::default(),
            constraints: ConstraintTiming::default(),
            workers: default_workers(),
            orphans: OrphanPolicy::default(),
            existing_keys: ExistingKeys::default(),
            app_triggers: IndexMap::new(),
            reversible: false,
        }
    }
}

/// What to do when a target table already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IfExists {
    /// Stop before writing anything.
    #[default]
    Fail,
    /// Drop the table (and what depends on it) and create it anew.
    Drop,
    /// Keep the table, empty it, and load.
    Truncate,
    /// Keep the table and its rows, and add the source rows.
    Append,
}

/// What to do with a row that cannot be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnBadRow {
    /// End the run; the table's transaction rolls back.
    #[default]
    Stop,
    /// Write the row and the reason to the rejects file and table, and go on.
    Reject,
}

/// What to do with orphan rows: rows whose foreign key has no matching row in the carried
/// referenced table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrphanPolicy {
    /// Stop the run before any foreign key is made, listing the orphans per constraint with
    /// sample keys. The search runs beside the first loads; `decant rollback` (or the next
    /// run under `if_exists: drop`) removes what they wrote.
    #[default]
    Fail,
    /// Leave the orphan rows out of the load and record each as a reject, with its key and the
    /// missing referenced row; the foreign key is created.
    Reject,
    /// Load every row and do not create the foreign keys that have orphans; reported.
    SkipConstraint,
}

/// When constraints and indexes are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintTiming {
    /// Create them after the table is loaded (fast).
    #[default]
    AfterLoad,
    /// Create them with the table, before loading.
    BeforeLoad,
}

/// How source identifiers become target identifiers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    /// `preserve` keeps names as they are (quoted), `snake_case` turns `createdAt` into
    /// `created_at`, `lower` lowercases.
    #[serde(default)]
    pub identifiers: IdentifierCase,
}

/// An identifier naming rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierCase {
    /// Keep names exactly as the source spells them.
    #[default]
    Preserve,
    /// `createdAt` → `created_at`, `HTTPStatus` → `http_status`.
    SnakeCase,
    /// Lowercase every name.
    Lower,
}

/// Which tables to carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    /// Glob patterns of source table names to carry.
    #[serde(default = "default_include")]
    pub include: Vec<String>,
    /// Glob patterns of source table names to leave behind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Target names for source tables, keyed by source name; wins over `naming`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub rename: IndexMap<String, String>,
}

fn default_include() -> Vec<String> {
    vec!["*".to_owned()]
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            include: default_include(),
            exclude: Vec::new(),
            rename: IndexMap::new(),
        }
    }
}

/// A type rule: columns that match get the target type (and transform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeRule {
    /// Which columns the rule applies to; every given condition must hold.
    #[serde(rename = "match")]
    pub matcher: TypeMatch,
    /// The target type, e.g. `timestamptz`, `numeric(12,2)`, `uuid`.
    pub to: String,
    /// A built-in transform name or a minijinja expression over `value` and `row`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    /// How `decant sync --reverse` brings a value back through an expression `transform`: a
    /// minijinja expression over `value` (the target's value, as text) and `row`; its result
    /// is stored as the source column's type stores it. Built-ins have their own inverse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse: Option<String>,
}

/// The conditions of a type rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeMatch {
    /// Glob over the declared source type, case-insensitive, e.g. `datetime`, `varchar*`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// Glob over `table.column` (source names), e.g. `*.external_id`, `users.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// A per-column override.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnOverride {
    /// The target type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The target column name; wins over `naming`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<String>,
    /// A built-in transform name or a minijinja expression over `value` and `row`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    /// How `decant sync --reverse` brings a value back through an expression `transform`: a
    /// minijinja expression over `value` (the target's value, as text) and `row`; its result
    /// is stored as the source column's type stores it. Built-ins have their own inverse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse: Option<String>,
    /// The target column's default, as a PostgreSQL expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the target column accepts NULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// Leave the column out: it is not read, and no target column receives it (say, a column
    /// the app's schema dropped).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
}

/// An extra index in the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraIndex {
    /// The source table name.
    pub table: String,
    /// Source column names, each optionally followed by ` desc` or ` asc`.
    pub columns: Vec<String>,
    /// The index name; generated from table and columns when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the index is unique.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// A partial-index predicate, in PostgreSQL SQL over target column names.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The index method, e.g. `btree`, `gin`, `brin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// An extra step placed in the step graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A unique id, used in `before`/`after` of other steps.
    pub id: String,
    /// SQL to run in the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// A Diesel migrations directory (relative to the plan file) to apply to the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrations: Option<String>,
    /// A command to run (through `sh -c`, in the plan's folder), such as the app's migrator:
    /// `python manage.py migrate`, `npx prisma migrate deploy`, `psql -f schema.sql`. The
    /// target's URL is in `DATABASE_URL` and `TARGET_DATABASE_URL`, its parts in `PGHOST`,
    /// `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE`. Its output goes in the report; a
    /// non-zero exit stops the run. After a kill it may run again: it must be safe to repeat
    /// (migrators are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Steps or phases (`schema`, `load`, `constraints`, `indexes`, `foreign-keys`, `sequences`, `views`,
    /// `checks`, or a table's step such as `load:<table>`) that must wait for this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<String>,
    /// Steps or phases this one waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// `cutover`: not part of a run; `decant cutover` runs it inside the write pause, after
    /// the final sync and the checks (the app's configuration switch, a load balancer's flip),
    /// and puts its output in the cutover report. A failure releases the pause and stops the
    /// cutover. It takes no `before`/`after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<StepPhase>,
}

/// When a plan step runs outside a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepPhase {
    /// Inside `decant cutover`'s write pause.
    Cutover,
    /// Inside `decant cutover --reverse`'s write pause: the switch back to the old database.
    CutoverReverse,
}

/// A check. Exactly one of `row_counts`, `checksums`, `foreign_keys`, `not_null`, `unique`,
/// `accepted_values`, or a named SQL assertion (`name` with `target`, optionally `source`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Compare row counts: `all` or a list of source table names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_counts: Option<Selection>,
    /// Compare full content: `all` or a list of source table names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksums: Option<Selection>,
    /// With `checksums`: compare only the first this many rows of each table, by key.
    /// The report says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_limit: Option<u64>,
    /// With `checksums`: compare about this fraction of each table's rows (above 0, at most
    /// 1), the same rows on both sides, chosen by a hash of the key. The report says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
    /// Find orphans and confirm constraints: `all` or a list of source table names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_keys: Option<Selection>,
    /// `table.column` that must hold no NULL in the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null: Option<String>,
    /// `table.column` whose values must be unique in the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// A `table.column` and the only values it may hold in the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_values: Option<AcceptedValues>,
    /// The assertion's name, shown in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A query on the source returning one value, compared with the target's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A query on the target returning one value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The expected value, or `equal` to compare the source and target results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
    /// Absolute numeric tolerance when comparing values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// `all` or an explicit list of source table names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Selection {
    /// Every carried table.
    All(AllKeyword),
    /// These source tables.
    Tables(Vec<String>),
}

/// The keyword `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllKeyword {
    /// Every carried table.
    All,
}

/// The accepted values of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedValues {
    /// `table.column` (source names).
    pub column: String,
    /// The values the column may hold.
    pub values: Vec<serde_json::Value>,
}

/// Generates the JSON Schema of the plan file from these types.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Plan);
    serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null)
}
