//! MySQL/MariaDB spatial columns: read as WKB, carried into PostGIS's `geometry` with their
//! SRID, or into `bytea` (WKB) with a warning where the plan does not ask for `geometry`.

use crate::support::cli::{assert_all_checks_passed, Outcome};
use crate::support::mysql::{decant_between, MysqlDatabase};
use crate::support::postgres::TestDatabase;
use crate::support::setup::{assert_exit, query};

/// Every kind the issue names, SRID 0 and 4326, and NULLs, in a GEOMETRY and a POINT column.
const SOURCE: &str = "
CREATE TABLE places (
  id INT PRIMARY KEY,
  g GEOMETRY NULL,
  p POINT NULL,
  name VARCHAR(20)
);
INSERT INTO places VALUES
  (1, ST_GeomFromText('POINT(1 2)', 0), ST_GeomFromText('POINT(1.5 -2.25)', 4326), 'point'),
  (2, ST_GeomFromText('LINESTRING(0 0,1 1,2 1)', 4326), NULL, 'line'),
  (3, ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))', 4326), ST_GeomFromText('POINT(0 0)', 0), 'polygon'),
  (4, ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2)))', 0), NULL, 'multipolygon'),
  (5, NULL, NULL, 'nothing'),
  (6, ST_GeomFromText('POINT(-71.0603 42.3583)', 4326), ST_GeomFromText('POINT(-71.0603 42.3583)', 4326), 'boston');
CREATE TABLE sites (id INT PRIMARY KEY, loc POINT NOT NULL, SPATIAL INDEX sites_loc (loc));
INSERT INTO sites VALUES (1, ST_GeomFromText('POINT(3 4)', 4326)), (2, ST_GeomFromText('POINT(5 6)', 4326));
";

fn plan(extra: &str) -> String {
    format!(
        "version: 1\nname: spatial\nsource: {{ url: \"${{SOURCE_DATABASE_URL}}\" }}\ntarget: {{ url: \"${{TARGET_DATABASE_URL}}\" }}\n{extra}checks:\n  - row_counts: all\n  - checksums: all\n"
    )
}

/// `decant ARGS` in `dir`, from `source` into `target`.
fn decant(
    dir: &std::path::Path,
    args: &[&str],
    source: &MysqlDatabase,
    target: &TestDatabase,
) -> Outcome {
    decant_between(dir, args, source, target, &[])
}

/// `id|SRID|WKT` of every row of `column`, as MariaDB reads its values.
fn source_values(source: &MysqlDatabase, column: &str) -> String {
    source.query(&format!(
        "SELECT GROUP_CONCAT(CONCAT_WS('|', id, IFNULL(ST_SRID(`{column}`), 'null'), IFNULL(ST_AsText(`{column}`), 'null')) ORDER BY id SEPARATOR ' ; ') FROM places"
    ))
}

#[test]
fn mysql_spatial_values_load_into_postgis_geometry_with_their_srid() {
    let source = MysqlDatabase::new();
    source.execute(SOURCE);
    let target = TestDatabase::new();
    {
        use diesel::connection::SimpleConnection;
        target
            .connect()
            .batch_execute("CREATE EXTENSION postgis")
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.yaml"),
        plan("columns:\n  places.g: { to: geometry }\n  places.p: { to: geometry }\n  sites.loc: { to: geometry }\n"),
    )
    .unwrap();
    let out = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&target, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'places'::regclass AND attname = 'g'"),
        "geometry"
    );
    for column in ["g", "p"] {
        let expected = source_values(&source, column);
        assert!(
            expected.contains("4326") && expected.contains("null"),
            "{expected}"
        );
        let loaded = query(
            &target,
            &format!("SELECT string_agg(concat_ws('|', id, coalesce(ST_SRID({column})::text, 'null'), coalesce(ST_AsText({column}), 'null')), ' ; ' ORDER BY id) FROM places"),
        );
        assert_eq!(loaded, expected, "column `{column}`");
    }
    // The SPATIAL index is a GiST index on the geometry.
    assert_eq!(
        query(
            &target,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'sites_loc'"
        ),
        "CREATE INDEX sites_loc ON public.sites USING gist (loc)"
    );
    assert_eq!(
        query(&target, "SELECT string_agg(id || '|' || ST_SRID(loc) || '|' || ST_AsText(loc), ' ; ' ORDER BY id) FROM sites"),
        "1|4326|POINT(3 4) ; 2|4326|POINT(5 6)"
    );
}

#[test]
fn without_postgis_spatial_values_load_as_wkb_bytea_with_a_warning_naming_the_column() {
    let source = MysqlDatabase::new();
    source.execute(SOURCE);
    let target = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), plan("")).unwrap();
    let shown = decant(dir.path(), &["plan", "plan.yaml"], &source, &target);
    assert_exit(&shown, 0);
    let all = format!("{}{}", shown.stdout, shown.stderr);
    assert!(
        all.contains("places.g") && all.contains("spatial `geometry` is carried as WKB in `bytea`"),
        "{all}"
    );
    assert!(
        all.contains("SPATIAL index `sites_loc` not carried: column `loc` is `bytea`"),
        "{all}"
    );
    let out = decant(dir.path(), &["run", "plan.yaml"], &source, &target);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&target, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'places'::regclass AND attname = 'g'"),
        "bytea"
    );
    for column in ["g", "p"] {
        let expected = source.query(&format!(
            "SELECT GROUP_CONCAT(CONCAT_WS('|', id, IFNULL(LOWER(HEX(ST_AsBinary(`{column}`))), 'null')) ORDER BY id SEPARATOR ' ; ') FROM places"
        ));
        let loaded = query(
            &target,
            &format!("SELECT string_agg(concat_ws('|', id, coalesce(encode({column}, 'hex'), 'null')), ' ; ' ORDER BY id) FROM places"),
        );
        assert_eq!(loaded, expected, "column `{column}`");
    }
    assert_eq!(
        query(
            &target,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'sites'"
        ),
        "1"
    );
}

#[test]
fn init_proposes_geometry_only_where_postgis_is_installed_in_the_target() {
    use diesel::connection::SimpleConnection;
    let source = MysqlDatabase::new();
    source.execute(SOURCE);
    let with = TestDatabase::new();
    with.connect()
        .batch_execute("CREATE EXTENSION postgis")
        .unwrap();
    let without = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    for (target, file) in [(&with, "with.yaml"), (&without, "without.yaml")] {
        let out = decant(
            dir.path(),
            &[
                "init",
                "--source",
                &source.url,
                "--target",
                &target.url,
                "-o",
                file,
            ],
            &source,
            target,
        );
        assert_exit(&out, 0);
    }
    let with_plan = std::fs::read_to_string(dir.path().join("with.yaml")).unwrap();
    for column in ["places.g", "places.p", "sites.loc"] {
        assert!(
            with_plan.contains(&format!("  {column}: {{ to: geometry }}")),
            "{column}:\n{with_plan}"
        );
    }
    let without_plan = std::fs::read_to_string(dir.path().join("without.yaml")).unwrap();
    assert!(!without_plan.contains("to: geometry }"), "{without_plan}");
    assert!(
        without_plan.contains("places.g: { to: \"bytea\" }"),
        "{without_plan}"
    );
    // The plan init wrote runs as it stands: geometry kept with its SRID, the index a GiST one.
    let out = decant(dir.path(), &["run", "with.yaml"], &source, &with);
    assert_exit(&out, 0);
    assert_all_checks_passed(&out);
    assert_eq!(
        query(&with, "SELECT string_agg(id || '|' || ST_SRID(g) || '|' || ST_AsText(g), ' ; ' ORDER BY id) FROM places WHERE id IN (2, 4)"),
        "2|4326|LINESTRING(0 0,1 1,2 1) ; 4|0|MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2)))"
    );
    assert_eq!(
        query(
            &with,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'sites_loc'"
        ),
        "CREATE INDEX sites_loc ON public.sites USING gist (loc)"
    );
}
