//! The GraphQL schema (SDL) of the asset graph, with a `where` input type per asset kind.

use netaudit_model::schema::{Kind, ScalarType, COMMON_FIELDS};
use std::fmt::Write;

const STRING_OPS: &[&str] = &[
    "",
    "_NOT",
    "_LT",
    "_LTE",
    "_GT",
    "_GTE",
    "_CONTAINS",
    "_NOT_CONTAINS",
    "_STARTS_WITH",
    "_NOT_STARTS_WITH",
    "_ENDS_WITH",
    "_NOT_ENDS_WITH",
    "_MATCHES",
];
const INT_OPS: &[&str] = &["", "_NOT", "_LT", "_LTE", "_GT", "_GTE"];

fn gql_type(ty: ScalarType) -> &'static str {
    match ty {
        ScalarType::String => "String",
        ScalarType::Int => "Int",
        ScalarType::Boolean => "Boolean",
        ScalarType::StringList => "[String!]",
    }
}

fn description(out: &mut String, indent: &str, doc: &str) {
    let _ = writeln!(out, "{indent}\"\"\"{}\"\"\"", doc.replace("\"\"\"", "'''"));
}

fn where_fields(out: &mut String, name: &str, ty: ScalarType) {
    match ty {
        ScalarType::String => {
            for op in STRING_OPS {
                let _ = writeln!(out, "  {name}{op}: String");
            }
            let _ = writeln!(out, "  {name}_IN: [String]\n  {name}_NOT_IN: [String]");
        }
        ScalarType::Int => {
            for op in INT_OPS {
                let _ = writeln!(out, "  {name}{op}: Int");
            }
            let _ = writeln!(out, "  {name}_IN: [Int]\n  {name}_NOT_IN: [Int]");
        }
        ScalarType::Boolean => {
            let _ = writeln!(out, "  {name}: Boolean\n  {name}_NOT: Boolean");
        }
        ScalarType::StringList => {
            let _ = writeln!(out, "  {name}_INCLUDES: String\n  {name}_NOT_INCLUDES: String");
        }
    }
}

/// The schema as GraphQL SDL: what `netaudit schema` prints and what queries are validated against.
pub fn schema_sdl() -> String {
    let mut out = String::new();
    out.push_str("\"\"\"Fields every asset has. The built-in fragment `AssetFragment` selects them all.\"\"\"\n");
    out.push_str("interface Asset {\n");
    for f in COMMON_FIELDS {
        description(&mut out, "  ", f.doc);
        let _ = writeln!(out, "  {}: {}", f.name, gql_type(f.ty));
    }
    out.push_str("}\n\n");

    out.push_str("type Query {\n");
    for kind in Kind::ALL {
        let def = kind.def();
        description(&mut out, "  ", def.doc);
        let _ = writeln!(
            out,
            "  {}(where: {}Where): [{}!]!",
            def.root_field, def.type_name, def.type_name
        );
    }
    out.push_str("}\n\n");

    for kind in Kind::ALL {
        let def = kind.def();
        description(&mut out, "", def.doc);
        let _ = writeln!(out, "type {} implements Asset {{", def.type_name);
        for f in COMMON_FIELDS.iter().chain(def.fields) {
            description(&mut out, "  ", f.doc);
            let _ = writeln!(out, "  {}: {}", f.name, gql_type(f.ty));
        }
        for e in def.edges {
            let target = e.target.def().type_name;
            description(&mut out, "  ", e.doc);
            if e.many {
                let _ = writeln!(out, "  {}(where: {target}Where): [{target}!]!", e.name);
            } else {
                let _ = writeln!(out, "  {}(where: {target}Where): {target}", e.name);
            }
        }
        out.push_str("}\n\n");

        let _ = writeln!(
            out,
            "\"\"\"Filter on {0}: keys in one object are ANDed; `field: null` tests for no value; `edge: null` for no related asset.\"\"\"",
            def.type_name
        );
        let _ = writeln!(out, "input {}Where {{", def.type_name);
        let _ = writeln!(
            out,
            "  AND: [{0}Where!]\n  OR: [{0}Where!]\n  NOT: {0}Where",
            def.type_name
        );
        for f in COMMON_FIELDS.iter().chain(def.fields) {
            where_fields(&mut out, f.name, f.ty);
        }
        for e in def.edges {
            let target = e.target.def().type_name;
            let _ = writeln!(out, "  {0}: {target}Where\n  {0}_NOT: {target}Where", e.name);
            if e.many {
                for q in ["_SOME", "_NONE", "_ALL", "_SINGLE"] {
                    let _ = writeln!(out, "  {}{q}: {target}Where", e.name);
                }
            }
        }
        out.push_str("}\n\n");
    }
    out
}
