//! The schema check seen through `load`: the seed's YAML, converted by the crate's own loader,
//! yields exactly the schema deviations the unit tests pin on the JSON copy.

use naftiko_spec::{LoadOptions, load};

const SEED: &str = include_str!("../../../capabilities/ory-identities.yml");

#[test]
fn seed_schema_diagnostics_match_the_known_deviations() {
    let loaded = load(SEED, LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let schema: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "schema" || d.code == "unknown-key")
        .collect();
    let count = |code: &str, message: &str| {
        schema
            .iter()
            .filter(|d| d.code == code && d.message == message)
            .count()
    };
    let unknown = |key: &str| {
        count(
            "unknown-key",
            &format!("unknown key '{key}' (not allowed here by the schema)"),
        )
    };
    // 47 consumed input parameters carry `type`, 46 `description`, 19 `required`; the REST
    // adapter carries one more `description`.
    assert_eq!(unknown("type"), 47);
    assert_eq!(unknown("description"), 46 + 1);
    assert_eq!(unknown("required"), 19);
    assert_eq!(count("schema", "missing required key 'properties'"), 38);
    assert_eq!(
        count(
            "schema",
            "'' does not match pattern '^https?://[^/]+(/[^{]*)?$'"
        ),
        1
    );
    assert_eq!(schema.len(), 47 + 47 + 19 + 38 + 1, "{schema:#?}");
}
