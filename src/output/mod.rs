//! The output layer every command prints through.
//!
//! A command produces records (ordered JSON objects whose field names are stable and documented
//! in its man page) and says whether they are a list (shown as a table) or one object per input
//! (shown as a key/value card). The user picks the format; by default a table on a terminal and
//! tab-separated lines with no header when piped, so that `cut`, `awk` and `sort` work.

pub mod escape;

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};
use std::marker::PhantomData;

use clap::ValueEnum;
use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};
use serde_json::Value;

use crate::error::{Error, Result};

/// The fields of one kind of output row, declared once by [`fields!`](crate::fields): each
/// field's name, what it holds, and whether text formats show it without `-f`.
pub trait Schema: 'static {
    /// The fields, in default order.
    const FIELDS: &'static [Field];

    /// A record of this schema with every field null.
    fn record() -> Record<Self>
    where
        Self: Sized,
    {
        Record::new()
    }
}

/// A field of schema `S`, by position. Keys are made only by [`fields!`](crate::fields), from
/// the same list the documentation is generated from, so a record cannot be given a field its
/// command does not document: a misspelt name does not compile.
pub struct Key<S> {
    index: usize,
    schema: PhantomData<fn() -> S>,
}

impl<S> Clone for Key<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Key<S> {}

impl<S: Schema> Key<S> {
    /// The key of the field named `name`; a name not in the schema stops the build (keys are
    /// made in constants, where this runs at compile time).
    pub const fn named(name: &str) -> Key<S> {
        let fields = S::FIELDS;
        let mut i = 0;
        while i < fields.len() {
            if str_eq(fields[i].name, name) {
                return Key {
                    index: i,
                    schema: PhantomData,
                };
            }
            i += 1;
        }
        panic!("no such field in the schema");
    }

    /// The field's name.
    pub fn name(self) -> &'static str {
        S::FIELDS[self.index].name
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares a schema: a unit type implementing [`Schema`], with one [`Key`] constant per field.
///
/// ```text
/// opskit::fields! {
///     /// pkg-where's rows.
///     pub Row {
///         HOST = "host", shown, "The host's name.";
///         ARCH = "arch", hidden, "The package's architecture.";
///     }
/// }
/// record.set(Row::HOST, "web-1");
/// ```
///
/// `shown` fields make the tables, tsv and csv a user gets without `-f`; JSON and cards show
/// every field.
#[macro_export]
macro_rules! fields {
    ($(#[$attr:meta])* $vis:vis $name:ident {
        $($key:ident = $field:literal, $show:ident, $about:literal;)*
    }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::output::Schema for $name {
            const FIELDS: &'static [$crate::output::Field] = &[
                $($crate::output::Field {
                    name: $field,
                    about: $about,
                    shown: $crate::fields!(@shown $show),
                },)*
            ];
        }

        #[allow(dead_code)]
        impl $name {
            $(pub const $key: $crate::output::Key<$name> = $crate::output::Key::named($field);)*
        }
    };
    (@shown shown) => { true };
    (@shown hidden) => { false };
}

/// One answer row: a value for each field of schema `S`, in schema order. Values are stored by
/// position, not in a map, because a listing of ten thousand rows spent most of its time
/// allocating and hashing field names.
#[derive(Debug, Clone)]
pub struct Record<S> {
    values: Vec<Value>,
    schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Record<S> {
    /// A record with every field null.
    pub fn new() -> Record<S> {
        Record {
            values: vec![Value::Null; S::FIELDS.len()],
            schema: PhantomData,
        }
    }

    /// Sets a field.
    pub fn set(&mut self, key: Key<S>, value: impl Into<Value>) -> &mut Self {
        self.values[key.index] = value.into();
        self
    }

    /// A field's value; null when unset.
    pub fn get(&self, key: Key<S>) -> &Value {
        &self.values[key.index]
    }

    /// Sets column `column` of the columns a command adds at run time (see
    /// [`Printer::with_columns`]): host-where's facts, named by the user.
    pub fn set_column(&mut self, column: usize, value: impl Into<Value>) -> &mut Self {
        let i = S::FIELDS.len() + column;
        if self.values.len() <= i {
            self.values.resize(i + 1, Value::Null);
        }
        self.values[i] = value.into();
        self
    }
}

impl<S> Record<S> {
    /// The value at position `i`: a schema field, or a run-time column (null when unset).
    fn value(&self, i: usize) -> &Value {
        static NULL: Value = Value::Null;
        self.values.get(i).unwrap_or(&NULL)
    }
}

impl<S: Schema> Default for Record<S> {
    fn default() -> Self {
        Record::new()
    }
}

/// A record's selected fields as a JSON object, serialized without building a map.
struct Projected<'a, S> {
    fields: &'a [(usize, Name)],
    record: &'a Record<S>,
}

impl<S> serde::Serialize for Projected<'_, S> {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (i, name) in self.fields {
            map.serialize_entry(name.as_ref(), self.record.value(*i))?;
        }
        map.end()
    }
}

/// A documented output field: its stable name (also the JSON key), what it holds, and whether
/// text formats show it without `-f`. Declared with [`fields!`](crate::fields).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The field's name in JSON, in `-f` and in table headers.
    pub name: &'static str,
    /// One line for the man page.
    pub about: &'static str,
    /// Shown by tables, tsv and csv without `-f`.
    pub shown: bool,
}

/// A warning line for stderr, `tool: message`. Messages often quote names from the network, so
/// control characters are escaped.
pub fn warning(tool: &str, message: impl std::fmt::Display) -> String {
    format!("{tool}: {}", escape::for_terminal(&message.to_string()))
}

/// How records are laid out on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Many similar rows: a table.
    Table,
    /// One rich object per input: a key/value card.
    Card,
}

/// The output formats a user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned table (cards for single objects); the default on a terminal.
    Table,
    /// Tab-separated values, escaped, no header unless --header; the default when piped.
    Tsv,
    /// Comma-separated values (RFC 4180).
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// The output flags shared by every query command.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format [default: table on a terminal, tsv otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// One JSON object per line (shorthand for --format jsonl)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Print a header line in tsv and csv output
    #[arg(long)]
    pub header: bool,
    /// Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)
    #[arg(short = 'f', long, value_name = "FIELD,…", value_delimiter = ',')]
    pub fields: Vec<String>,
}

/// A field's name as the printer shows it: a schema's, or a run-time column's.
type Name = Cow<'static, str>;

/// Renders records to stdout in the chosen format.
pub struct Printer {
    format: Format,
    header: bool,
    /// Selected fields: their position in the record and their name.
    fields: Vec<(usize, Name)>,
    /// The fields a card shows: the selected ones with -f, else every field (a card shows
    /// only what is known, so it stays readable however many fields a command has).
    card_fields: Vec<(usize, Name)>,
    tty: bool,
    colour: bool,
    out: io::BufWriter<io::StdoutLock<'static>>,
}

impl Printer {
    /// Prepares a printer for records of schema `S`; rejects unknown `-f` names. Without `-f`,
    /// tables, tsv and csv show the fields marked shown; cards and JSON show them all, so that
    /// lines stay readable while scripts and people still get everything.
    pub fn new<S: Schema>(args: &OutputArgs) -> Result<Self> {
        Printer::without::<S>(args, &[])
    }

    /// As [`Printer::new`], leaving out `view_only` fields unless `-f` names them: fields that
    /// only one view of a command fills (which-switch's `moved_from`, for `--moves`).
    pub fn without<S: Schema>(args: &OutputArgs, view_only: &[Key<S>]) -> Result<Self> {
        Printer::with_columns::<S>(args, view_only, None, &[])
    }

    /// As [`Printer::without`], with `columns` added at run time after the field `after` (at
    /// the end when `None`): fields no schema can list because the user names them, such as
    /// host-where's facts. They are shown without `-f`, and `-f` may name them; records fill
    /// them with [`Record::set_column`], in this order.
    pub fn with_columns<S: Schema>(
        args: &OutputArgs,
        view_only: &[Key<S>],
        after: Option<Key<S>>,
        columns: &[String],
    ) -> Result<Self> {
        let schema = S::FIELDS;
        let tty = io::stdout().is_terminal();
        let format = match (args.json, args.format) {
            (true, _) => Format::Jsonl,
            (false, Some(f)) => f,
            (false, None) if tty => Format::Table,
            (false, None) => Format::Tsv,
        };
        let mut fields = select_fields(&args.fields, schema, columns)?;
        if args.fields.is_empty() {
            fields.retain(|&(i, _)| !view_only.iter().any(|k| k.index == i));
            // Run-time columns go right after `after`, so that a host's facts sit beside it.
            let at = after.map_or(fields.len(), |k| {
                fields
                    .iter()
                    .position(|&(i, _)| i == k.index)
                    .map_or(0, |p| p + 1)
            });
            let extra = fields.split_off(at);
            fields.extend(
                columns
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (schema.len() + j, Cow::Owned(c.clone()))),
            );
            fields.extend(extra);
        }
        let card_fields = fields.clone();
        if args.fields.is_empty() && !matches!(format, Format::Json | Format::Jsonl) {
            fields.retain(|&(i, _)| schema.get(i).is_none_or(|f| f.shown));
        }
        let colour = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Printer {
            format,
            header: args.header,
            fields,
            card_fields,
            tty,
            colour,
            out: io::BufWriter::new(io::stdout().lock()),
        })
    }

    /// For records that arrive one at a time over a long run (`who-did --follow`): a table
    /// cannot be aligned before its last row and a JSON array never closes, so a terminal gets
    /// tab-separated lines under one header line, and `--format json` one object per line.
    pub fn streaming(mut self) -> Self {
        match self.format {
            Format::Table => {
                self.format = Format::Tsv;
                self.header = true;
            }
            Format::Json => self.format = Format::Jsonl,
            _ => {}
        }
        self
    }

    /// Prints all records in the chosen format.
    pub fn print<S>(&mut self, records: &[Record<S>], shape: Shape) -> Result<()> {
        let res = match self.format {
            Format::Table if shape == Shape::Card => self.card(records),
            Format::Table => self.table(records),
            Format::Tsv => self.tsv(records),
            Format::Csv => self.csv(records),
            Format::Json => self.json(records),
            Format::Jsonl => self.jsonl(records),
        };
        // A header is printed once, however many times records come.
        self.header = false;
        res.and_then(|()| self.out.flush())
            .map_err(|e| Error::io("writing output", e))
    }

    fn table<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        let mut table = Table::new();
        table.load_style(presets::NOTHING);
        if self.tty {
            // A pty with no size set reports 0 columns; wrapping to that would print one
            // character per line, so only wrap to a real width.
            if table.width().is_some_and(|w| w >= 40) {
                table.set_content_arrangement(ContentArrangement::Dynamic);
            }
        } else {
            table.force_no_tty();
        }
        if self.colour {
            table.enforce_styling();
        }
        let bold = self.colour;
        table.set_header(self.fields.iter().map(|(_, f)| {
            let cell = Cell::new(f);
            if bold {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
        for record in records {
            table.add_row(
                project(&self.fields, record)
                    .map(|(_, v)| escape::for_terminal(&flatten(v)).into_owned()),
            );
        }
        writeln!(self.out, "{table}")
    }

    fn card<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        let width = self
            .card_fields
            .iter()
            .map(|(_, f)| f.len())
            .max()
            .unwrap_or(0);
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                writeln!(self.out)?;
            }
            for (i, name) in &self.card_fields {
                let value = record.value(*i);
                if is_empty(value) {
                    continue;
                }
                let lines = card_lines(value);
                for (j, line) in lines.iter().enumerate() {
                    let key = if j == 0 { name.as_ref() } else { "" };
                    if self.colour && j == 0 {
                        writeln!(self.out, "\x1b[1m{key:width$}\x1b[0m  {line}")?;
                    } else {
                        writeln!(self.out, "{key:width$}  {line}")?;
                    }
                }
            }
        }
        Ok(())
    }

    fn tsv<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        if self.header {
            let names: Vec<&str> = self.fields.iter().map(|(_, n)| n.as_ref()).collect();
            writeln!(self.out, "{}", names.join("\t"))?;
        }
        for record in records {
            let line: Vec<String> = project(&self.fields, record)
                .map(|(_, v)| escape::for_tsv(&flatten(v)).into_owned())
                .collect();
            writeln!(self.out, "{}", line.join("\t"))?;
        }
        Ok(())
    }

    fn csv<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(&mut self.out);
        if self.header {
            writer.write_record(self.fields.iter().map(|(_, n)| n.as_ref()))?;
        }
        for record in records {
            let row: Vec<String> = self
                .fields
                .iter()
                .map(|&(i, _)| escape::for_csv(&flatten(record.value(i))).into_owned())
                .collect();
            writer.write_record(&row)?;
        }
        writer.flush()
    }

    fn json<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        let projected: Vec<Projected<'_, S>> = records
            .iter()
            .map(|record| Projected {
                fields: &self.fields,
                record,
            })
            .collect();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut self.out,
            escape::JsonSafe(serde_json::ser::PrettyFormatter::new()),
        );
        serde::Serialize::serialize(&projected, &mut ser)?;
        writeln!(self.out)
    }

    fn jsonl<S>(&mut self, records: &[Record<S>]) -> io::Result<()> {
        for record in records {
            let projected = Projected {
                fields: &self.fields,
                record,
            };
            let mut ser = serde_json::Serializer::with_formatter(
                &mut self.out,
                escape::JsonSafe(serde_json::ser::CompactFormatter),
            );
            serde::Serialize::serialize(&projected, &mut ser)?;
            writeln!(self.out)?;
        }
        Ok(())
    }
}

/// The selected fields of a record, in order.
fn project<'f, 'r, S>(
    fields: &'f [(usize, Name)],
    record: &'r Record<S>,
) -> impl Iterator<Item = (&'f str, &'r Value)> + use<'f, 'r, S> {
    fields
        .iter()
        .map(move |(i, name)| (name.as_ref(), record.value(*i)))
}

/// Resolves `-f` names against the schema, then the run-time `columns`; no `-f` means every
/// schema field (the caller places the columns).
fn select_fields(
    requested: &[String],
    schema: &'static [Field],
    columns: &[String],
) -> Result<Vec<(usize, Name)>> {
    if requested.is_empty() {
        return Ok(schema
            .iter()
            .map(|f| Cow::Borrowed(f.name))
            .enumerate()
            .collect());
    }
    requested
        .iter()
        .map(|name| {
            let name = name.trim();
            schema
                .iter()
                .position(|f| f.name == name)
                .map(|i| (i, Cow::Borrowed(schema[i].name)))
                .or_else(|| {
                    columns
                        .iter()
                        .position(|c| c == name)
                        .map(|j| (schema.len() + j, Cow::Owned(name.to_string())))
                })
                .ok_or_else(|| {
                    let known: Vec<&str> = schema.iter().map(|f| f.name).collect();
                    Error::usage(format!(
                        "unknown field {:?} (known: {})",
                        name,
                        known.join(",")
                    ))
                })
        })
        .collect()
}

/// Null, "", [] and {}: nothing worth a line in a card.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A value as one line of text: lists joined by commas, objects by their values.
pub fn flatten(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(","),
        Value::Object(map) => map
            .values()
            .map(flatten)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// The lines a value takes in a card: a list of objects becomes an aligned sub-table under a
/// line of its column names; a list of phrases (items with spaces, such as disagreements) takes
/// a line per item, since joined with commas they could not be told apart; other lists are
/// joined on one line.
fn card_lines(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            // Columns in the order keys first appear, so that rows missing a key still line up.
            let mut columns: Vec<&str> = Vec::new();
            for o in items.iter().filter_map(Value::as_object) {
                for k in o.keys() {
                    if !columns.contains(&k.as_str()) {
                        columns.push(k);
                    }
                }
            }
            let mut rows: Vec<Vec<String>> = vec![columns.iter().map(|c| c.to_string()).collect()];
            rows.extend(items.iter().filter_map(Value::as_object).map(|o| {
                columns
                    .iter()
                    .map(|c| {
                        o.get(*c).map_or_else(String::new, |v| {
                            escape::for_terminal(&flatten(v)).into_owned()
                        })
                    })
                    .collect()
            }));
            // A column empty in every row (a speed no interface reports) is left out.
            let shown: Vec<usize> = (0..columns.len())
                .filter(|&c| rows[1..].iter().any(|r| !r[c].is_empty()))
                .collect();
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|r| shown.iter().map(|&c| r[c].clone()).collect())
                .collect();
            let widths: Vec<usize> = (0..shown.len())
                .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
                .collect();
            rows.iter()
                .map(|row| {
                    let cells: Vec<String> = row
                        .iter()
                        .enumerate()
                        .map(|(c, s)| format!("{s:w$}", w = widths[c]))
                        .collect();
                    cells.join("  ").trim_end().to_string()
                })
                .collect()
        }
        Value::Array(items) => {
            let flat: Vec<String> = items
                .iter()
                .map(|v| escape::for_terminal(&flatten(v)).into_owned())
                .collect();
            if flat.iter().any(|s| s.contains(' ')) {
                flat
            } else {
                vec![flat.join(", ")]
            }
        }
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", escape::for_terminal(&flatten(v))))
            .collect(),
        other => vec![escape::for_terminal(&flatten(other)).into_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::fields! {
        Test {
            HOST = "host", shown, "";
            VERSION = "version", hidden, "";
        }
    }
    static SCHEMA: &[Field] = Test::FIELDS;

    #[test]
    fn keys_index_their_own_field() {
        let mut r = Test::record();
        r.set(Test::VERSION, "1.0");
        assert_eq!(r.get(Test::VERSION), "1.0");
        assert!(r.get(Test::HOST).is_null());
        assert_eq!(
            (Test::HOST.name(), Test::VERSION.name()),
            ("host", "version")
        );
    }

    #[test]
    fn unknown_fields_are_a_usage_error_that_lists_the_known_ones() {
        let err = select_fields(&["hots".into()], SCHEMA, &[]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Usage);
        assert!(err.to_string().contains("known: host,version"), "{err}");
        assert_eq!(
            select_fields(&["version".into()], SCHEMA, &[]).unwrap(),
            [(1, Cow::Borrowed("version"))]
        );
        // Run-time columns come after the schema's fields.
        assert_eq!(
            select_fields(
                &["kernel".into(), "host".into()],
                SCHEMA,
                &["kernel".into()]
            )
            .unwrap(),
            [(2, Cow::Borrowed("kernel")), (0, Cow::Borrowed("host"))]
        );
    }

    #[test]
    fn flatten_joins_lists_and_objects() {
        assert_eq!(flatten(&json!(["a", 1, null])), "a,1,");
        assert_eq!(
            flatten(&json!({"n": "eth0", "m": null, "a": ["x", "y"]})),
            "eth0 x,y"
        );
        assert_eq!(flatten(&json!(true)), "true");
    }

    #[test]
    fn card_aligns_lists_of_objects() {
        let lines = card_lines(&json!([{"n": "eth0", "a": "x"}, {"n": "lo", "a": "yy"}]));
        assert_eq!(lines, ["n     a", "eth0  x", "lo    yy"]);
        // A key only some rows have gets its own column, empty where it is missing.
        let lines = card_lines(&json!([{"n": "eth0"}, {"n": "lo", "mac": "m"}]));
        assert_eq!(lines, ["n     mac", "eth0", "lo    m"]);
        let lines = card_lines(&json!([{"n": "eth0", "speed": null}, {"n": "lo", "speed": ""}]));
        assert_eq!(lines, ["n", "eth0", "lo"]);
    }

    #[test]
    fn card_puts_phrases_on_lines_of_their_own() {
        assert_eq!(
            card_lines(&json!(["10.0.0.1/8", "::1/128"])),
            ["10.0.0.1/8, ::1/128"]
        );
        assert_eq!(
            card_lines(&json!([
                "h reports 10.0.0.1, ::1, which DNS does not give",
                "stale"
            ])),
            ["h reports 10.0.0.1, ::1, which DNS does not give", "stale"]
        );
    }
}
