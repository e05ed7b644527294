//! The two catalog backends behind one small interface: SQLite (embedded, the default) and
//! PostgreSQL (a server a team shares).
//!
//! Every query in the catalog is written once, in the SQL both understand, with SQLite's `?N`
//! placeholders; this module is where the dialects meet. It turns `?N` into PostgreSQL's `$N`,
//! turns the schema's SQLite DDL into PostgreSQL's (see [`postgres_ddl`]), binds one parameter
//! type to whatever column type PostgreSQL inferred, and reads a row of either driver the same
//! way, so that every tool gets the same values, in the same order, from both. The few
//! constructs with no common spelling (glob matching, JSON arrays, advisory locks) are methods
//! of [`Dialect`], and nowhere else.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::error::{Error, ErrorKind, Result};

/// Which SQL a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `column` matches the glob bound as parameter `n` (see [`Dialect::glob_param`]):
    /// SQLite's GLOB; on PostgreSQL an anchored regular expression, which is what GLOB is.
    pub(crate) fn glob(self, column: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{column} GLOB ?{n}"),
            Dialect::Postgres => format!("{column} ~ ?{n}"),
        }
    }

    /// The value to bind for [`Dialect::glob`]: the pattern itself, or its regular expression.
    pub(crate) fn glob_param(self, pattern: &str) -> String {
        match self {
            Dialect::Sqlite => pattern.to_string(),
            Dialect::Postgres => glob_to_regex(pattern),
        }
    }

    /// A FROM item yielding a column `value` with each element of the JSON array in `column`
    /// (text), as SQLite's `json_each` does.
    pub(crate) fn json_array(self, column: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({column}) {alias}"),
            Dialect::Postgres => {
                format!("json_array_elements_text(CAST({column} AS json)) AS {alias}(value)")
            }
        }
    }
}

/// SQLite's GLOB pattern as a POSIX regular expression that matches the same strings: `*` any
/// run, `?` one character, `[...]` a class (`[^...]` negated), everything else literally.
pub(crate) fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                // A class runs to the first `]` after its first member (so `[]]` holds `]`);
                // without one, SQLite matches nothing, and so does an unclosed class here.
                let mut j = i + 1;
                if j < chars.len() && chars[j] == '^' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    return "^$.".into(); // never matches (past the end), as SQLite's unterminated class
                }
                let mut body = &chars[i + 1..j];
                out.push('[');
                if body.first() == Some(&'^') {
                    out.push('^');
                    body = &body[1..];
                }
                for (k, c) in body.iter().enumerate() {
                    match c {
                        // Inside a POSIX bracket expression only these are special; a
                        // backslash is literal in POSIX but not in PostgreSQL's ARE syntax.
                        '\\' => out.push_str("\\\\"),
                        '[' => out.push_str("\\["),
                        ']' if k == 0 => out.push_str("\\]"),
                        c => out.push(*c),
                    }
                }
                out.push(']');
                i = j;
            }
            c => {
                if !c.is_alphanumeric() && c != ' ' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        i += 1;
    }
    out.push('$');
    out
}

/// A value bound to a query.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be bound to a placeholder.
pub(crate) trait Param: Sync {
    fn value(&self) -> Value<'_>;
}

impl Param for i64 {
    fn value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}
impl Param for i32 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for u32 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for u16 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for u8 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}
impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// `params![a, b]`: the parameters of a query, `?1` first.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::catalog::db::Param),*] as &[&dyn $crate::catalog::db::Param]
    };
}
pub(crate) use params;

/// `?{from+1}, ?{from+2}, …`: `n` numbered placeholders after the first `from`, for an
/// `IN (…)` list (numbered, so that the text becomes PostgreSQL's `$N` unchanged).
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from + 1..=from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text as both backends store it: a NUL character (which a hostile host or switch may put
/// anywhere, and which PostgreSQL's text type cannot hold) becomes U+FFFD, on SQLite too, so
/// that the two catalogs hold and answer the same. Borrowed when there is none, the usual case.
fn storable(s: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr(0, s.as_bytes()).is_some() {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A parameter as SQLite binds it.
struct Lite<'a>(&'a dyn Param);

impl rusqlite::ToSql for Lite<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self.0.value() {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
            Value::Text(s) => match storable(s) {
                std::borrow::Cow::Borrowed(s) => {
                    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
                }
                std::borrow::Cow::Owned(s) => ToSqlOutput::Owned(rusqlite::types::Value::Text(s)),
            },
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// A parameter as PostgreSQL binds it: in whatever type the server inferred for its
/// placeholder, so that one query text serves both backends (an `INTEGER` column is `bigint`
/// there, a comparison with a literal may make it `integer`, a `CASE` result `text`).
#[derive(Debug)]
struct PgParam<'a>(Value<'a>);

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let text_like = |t: &Type| {
            [
                Type::TEXT,
                Type::VARCHAR,
                Type::BPCHAR,
                Type::NAME,
                Type::UNKNOWN,
            ]
            .contains(t)
        };
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                ref t if text_like(t) => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound as {ty}").into()),
            },
            Value::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                ref t if text_like(t) => storable(s).as_ref().to_sql(ty, out),
                _ => Err(format!("text cannot be bound as {ty}").into()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                ref t if text_like(t) => storable(std::str::from_utf8(b)?).as_ref().to_sql(ty, out),
                _ => Err(format!("bytes cannot be bound as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One row of a result, from either driver.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

/// What a column can be read as.
pub(crate) trait FromCol<'r>: Sized {
    fn from_col(row: &'r Row<'_>, i: usize) -> Result<Self>;
}

fn col_error(i: usize, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Catalog,
        format!("catalog query failed: column {i}: {what}"),
    )
}

impl<'a> Row<'a> {
    /// Column `i`, converted.
    pub(crate) fn get<'r, T: FromCol<'r>>(&'r self, i: usize) -> Result<T> {
        T::from_col(self, i)
    }

    /// Column `i` as an integer; NULL is `None`. Booleans (PostgreSQL's comparisons) read as
    /// 0 and 1, as SQLite stores them.
    pub(crate) fn int(&self, i: usize) -> Result<Option<i64>> {
        match self {
            Row::Sqlite(r) => match r.get_ref(i).map_err(sql_error)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                rusqlite::types::ValueRef::Integer(v) => Ok(Some(v)),
                other => Err(col_error(
                    i,
                    format_args!("{} where an integer was expected", other.data_type()),
                )),
            },
            Row::Postgres(r) => {
                let ty = r.columns().get(i).map(|c| c.type_().clone());
                let got = match ty {
                    Some(Type::INT8) => r.try_get::<_, Option<i64>>(i),
                    Some(Type::INT4) => r.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
                    Some(Type::INT2) => r.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
                    Some(Type::BOOL) => r.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
                    Some(t) => {
                        return Err(col_error(
                            i,
                            format_args!("{t} where an integer was expected"),
                        ));
                    }
                    None => return Err(col_error(i, "no such column")),
                };
                got.map_err(pg_error)
            }
        }
    }

    /// Column `i` as whatever it holds.
    pub(crate) fn value(&self, i: usize) -> Result<Value<'_>> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(i).map_err(sql_error)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                rusqlite::types::ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(t) => Value::Text(t),
                    Err(_) => Value::Blob(t),
                },
                rusqlite::types::ValueRef::Blob(b) => Value::Blob(b),
                rusqlite::types::ValueRef::Real(_) => {
                    return Err(col_error(
                        i,
                        "a real number, which the catalog never stores",
                    ));
                }
            }),
            Row::Postgres(r) => {
                let ty = r.columns().get(i).map(|c| c.type_().clone());
                match ty {
                    Some(Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL) => {
                        Ok(self.int(i)?.map_or(Value::Null, Value::Int))
                    }
                    Some(Type::BYTEA) => Ok(self.bytes(i)?.map_or(Value::Null, Value::Blob)),
                    _ => Ok(self.text(i)?.map_or(Value::Null, Value::Text)),
                }
            }
        }
    }

    /// Column `i` as text; NULL is `None`.
    pub(crate) fn text(&self, i: usize) -> Result<Option<&str>> {
        match self.bytes(i)? {
            None => Ok(None),
            Some(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|e| col_error(i, e)),
        }
    }

    /// Column `i` as the bytes of its text or blob, without copying; NULL is `None`.
    pub(crate) fn bytes(&self, i: usize) -> Result<Option<&[u8]>> {
        match self {
            Row::Sqlite(r) => match r.get_ref(i).map_err(sql_error)? {
                rusqlite::types::ValueRef::Null => Ok(None),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Ok(Some(t))
                }
                other => Err(col_error(
                    i,
                    format_args!("{} where text was expected", other.data_type()),
                )),
            },
            Row::Postgres(r) => match r.columns().get(i).map(|c| c.type_()) {
                Some(&Type::BYTEA) => r.try_get::<_, Option<&[u8]>>(i).map_err(pg_error),
                Some(_) => r
                    .try_get::<_, Option<&str>>(i)
                    .map(|v| v.map(str::as_bytes))
                    .map_err(pg_error),
                None => Err(col_error(i, "no such column")),
            },
        }
    }
}

impl FromCol<'_> for Option<i64> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        row.int(i)
    }
}
impl FromCol<'_> for i64 {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        row.int(i)?.ok_or_else(|| col_error(i, "NULL"))
    }
}
impl FromCol<'_> for Option<u64> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        row.int(i)?
            .map(|v| u64::try_from(v).map_err(|e| col_error(i, e)))
            .transpose()
    }
}
impl FromCol<'_> for u64 {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Option::<u64>::from_col(row, i)?.ok_or_else(|| col_error(i, "NULL"))
    }
}
impl FromCol<'_> for Option<u32> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        row.int(i)?
            .map(|v| u32::try_from(v).map_err(|e| col_error(i, e)))
            .transpose()
    }
}
impl FromCol<'_> for u32 {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Option::<u32>::from_col(row, i)?.ok_or_else(|| col_error(i, "NULL"))
    }
}
impl FromCol<'_> for Option<bool> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Ok(row.int(i)?.map(|v| v != 0))
    }
}
impl FromCol<'_> for bool {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Option::<bool>::from_col(row, i)?.ok_or_else(|| col_error(i, "NULL"))
    }
}
impl FromCol<'_> for Option<String> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Ok(row.text(i)?.map(str::to_string))
    }
}
impl FromCol<'_> for String {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Option::<String>::from_col(row, i)?.ok_or_else(|| col_error(i, "NULL"))
    }
}
impl<'r> FromCol<'r> for Option<&'r str> {
    fn from_col(row: &'r Row<'_>, i: usize) -> Result<Self> {
        row.text(i)
    }
}
impl FromCol<'_> for Option<Vec<u8>> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Ok(row.bytes(i)?.map(<[u8]>::to_vec))
    }
}

/// A PostgreSQL connection and its prepared statements, by the SQLite text they came from.
pub(crate) struct Pg {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

/// An open connection to either backend.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    // Boxed: the client and its statement cache are large, the SQLite handle is not.
    Postgres(Box<Pg>),
}

/// Wraps a SQLite failure as a catalog error.
pub(crate) fn sql_error(e: rusqlite::Error) -> Error {
    Error::with_source(ErrorKind::Catalog, "catalog query failed", e)
}

/// Wraps a PostgreSQL failure as a catalog error, in one line: the server's own message
/// (and its code, which is what a user searches for), not the driver's debug dump.
pub(crate) fn pg_error(e: postgres::Error) -> Error {
    let message = match e.as_db_error() {
        Some(db) => format!(
            "catalog query failed: {} ({})",
            db.message(),
            db.code().code()
        ),
        None if e.is_closed() => "catalog connection lost".to_string(),
        None => "catalog query failed".to_string(),
    };
    if e.as_db_error().is_some() {
        Error::new(ErrorKind::Catalog, message)
    } else {
        Error::with_source(ErrorKind::Catalog, message, e)
    }
}

/// Rows on their way into a table through PostgreSQL's `COPY … FROM STDIN`, in its text
/// format: fields separated by tabs, rows by newlines, NULL as `\N`, backslashes and control
/// characters escaped, `bytea` as `\x` and hex.
pub(crate) struct CopyRows<'w> {
    out: &'w mut dyn std::io::Write,
    buf: Vec<u8>,
    /// Per column: whether the target column is `bytea`.
    bytea: Vec<bool>,
    column: usize,
    rows: u64,
}

impl CopyRows<'_> {
    /// Appends the next field of the current row.
    pub(crate) fn field(&mut self, v: Value<'_>) -> Result<()> {
        let bytea = *self.bytea.get(self.column).ok_or_else(|| {
            Error::new(ErrorKind::Catalog, "catalog copy: more fields than columns")
        })?;
        if self.column > 0 {
            self.buf.push(b'\t');
        }
        self.column += 1;
        match v {
            Value::Null => self.buf.extend_from_slice(b"\\N"),
            Value::Int(i) => self.buf.extend_from_slice(i.to_string().as_bytes()),
            Value::Text(t) if bytea => copy_hex(&mut self.buf, t.as_bytes()),
            Value::Blob(b) if bytea => copy_hex(&mut self.buf, b),
            Value::Text(t) => copy_escaped(&mut self.buf, &storable(t)),
            Value::Blob(b) => {
                let t = std::str::from_utf8(b).map_err(|_| {
                    Error::new(
                        ErrorKind::Catalog,
                        "catalog copy: bytes that are not text for a text column",
                    )
                })?;
                copy_escaped(&mut self.buf, &storable(t));
            }
        }
        Ok(())
    }

    /// Ends the current row; sends what has gathered once it is worth a write.
    pub(crate) fn end_row(&mut self) -> Result<()> {
        if self.column != self.bytea.len() {
            return Err(Error::new(
                ErrorKind::Catalog,
                "catalog copy: fewer fields than columns",
            ));
        }
        self.buf.push(b'\n');
        self.column = 0;
        self.rows += 1;
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.out
            .write_all(&self.buf)
            .map_err(|e| Error::with_source(ErrorKind::Catalog, "catalog copy failed", e))?;
        self.buf.clear();
        Ok(())
    }
}

/// `text` in COPY's text format: the backslash and the characters that would end a field or a
/// row are escaped.
fn copy_escaped(buf: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

/// `bytes` as a `bytea` field in COPY's text format: `\\x` and hex (the backslash doubled,
/// as every backslash in the text format is).
fn copy_hex(buf: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\\\x");
    for &b in bytes {
        buf.push(HEX[usize::from(b >> 4)]);
        buf.push(HEX[usize::from(b & 15)]);
    }
}

/// Runs `f` where the synchronous PostgreSQL client may block: the client drives its own
/// runtime, which cannot be entered from a thread already running one (the collectors store
/// from inside theirs), so there `f` runs on a thread of its own for the length of the call.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

impl Pg {
    pub(crate) fn new(client: postgres::Client) -> Pg {
        Pg {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        }
    }

    /// The client, for one use at a time: a query started while another's rows are still
    /// being read (from inside its row callback) is an error, not a panic.
    fn client_mut(&self) -> Result<std::cell::RefMut<'_, postgres::Client>> {
        self.client
            .try_borrow_mut()
            .map_err(|_| Error::new(ErrorKind::Catalog, "catalog: a query inside another's rows"))
    }

    fn with_client<T: Send>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> std::result::Result<T, postgres::Error> + Send,
    ) -> Result<T> {
        let mut client = self.client_mut()?;
        let client = &mut *client;
        off_runtime(move || f(client)).map_err(pg_error)
    }

    /// The prepared statement for `sql` (SQLite's spelling), prepared on first use.
    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let text = postgres_sql(sql);
        let stmt = self.with_client(|c| c.prepare(&text))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Runs a statement of several commands, no parameters, no rows.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        self.with_client(|c| c.batch_execute(sql))
    }

    /// The schema version `opskit_meta` records, or `None` when the table is not there: one
    /// round trip (the simple protocol needs no separate prepare), which is what every command
    /// on an up-to-date catalog pays at start. Outside any transaction only, since a missing
    /// table is an error that would abort one.
    pub(crate) fn recorded_version(&self) -> Result<Option<i64>> {
        let answer = {
            let mut client = self.client_mut()?;
            let client = &mut *client;
            off_runtime(move || {
                client.simple_query("SELECT value FROM opskit_meta WHERE key = 'schema_version'")
            })
        };
        let messages = match answer {
            Ok(m) => m,
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Ok(None);
            }
            Err(e) => return Err(pg_error(e)),
        };
        for m in messages {
            if let postgres::SimpleQueryMessage::Row(row) = m {
                let text = row.get(0).unwrap_or_default();
                return text.parse().map(Some).map_err(|_| {
                    Error::new(
                        ErrorKind::Catalog,
                        format!("opskit_meta records schema version {text:?}, not a number"),
                    )
                });
            }
        }
        // The table without the row: take the locked path, which looks again.
        Ok(Some(0))
    }
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Calls `f` on every row, as the rows arrive.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
                let lite: Vec<Lite<'_>> = params.iter().map(|p| Lite(*p)).collect();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(lite.iter()))
                    .map_err(sql_error)?;
                while let Some(r) = rows.next().map_err(sql_error)? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                let stmt = pg.statement(sql)?;
                let values: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.value())).collect();
                if tokio::runtime::Handle::try_current().is_ok() {
                    // Inside a collector's runtime the client runs on a thread of its own
                    // (see `off_runtime`): the rows, a source's own, come back in one go.
                    let rows = pg.with_client(|c| {
                        let refs: Vec<&(dyn ToSql + Sync)> =
                            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                        c.query(&stmt, &refs)
                    })?;
                    for r in &rows {
                        f(&Row::Postgres(r))?;
                    }
                    return Ok(());
                }
                // Streamed as they arrive: a fleet's packages are a hundred million rows. The
                // client stays borrowed meanwhile, so `f` must not query (it gets an error).
                let mut client = pg.client_mut()?;
                let mut rows = client.query_raw(&stmt, values.iter()).map_err(pg_error)?;
                while let Some(r) = rows.next().map_err(pg_error)? {
                    f(&Row::Postgres(&r))?;
                }
                Ok(())
            }
        }
    }

    /// Every row, mapped by `f`.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped by `f`, if there is one.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.query_each(sql, params, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped by `f`; no row is an error.
    pub(crate) fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| Error::new(ErrorKind::Catalog, "catalog query failed: no row returned"))
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
                let lite: Vec<Lite<'_>> = params.iter().map(|p| Lite(*p)).collect();
                stmt.execute(rusqlite::params_from_iter(lite.iter()))
                    .map(|n| n as u64)
                    .map_err(sql_error)
            }
            Db::Postgres(pg) => {
                let stmt = pg.statement(sql)?;
                let values: Vec<PgParam<'_>> = params.iter().map(|p| PgParam(p.value())).collect();
                pg.with_client(|c| {
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                    c.execute(&stmt, &refs)
                })
            }
        }
    }

    /// Runs several statements with no parameters (already in this backend's dialect).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch(sql).map_err(sql_error),
            Db::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Fills `table`'s `columns` from the rows `fill` writes, with PostgreSQL's COPY (the
    /// fastest way in: a hundred million rows in minutes, not the better part of an hour of
    /// INSERTs). Returns how many rows went in, or `None` where COPY is not available (SQLite,
    /// or inside a runtime, as a collector's store is) and the caller inserts instead.
    pub(crate) fn copy_in(
        &self,
        table: &str,
        columns: &[String],
        fill: impl FnOnce(&mut CopyRows<'_>) -> Result<()>,
    ) -> Result<Option<u64>> {
        let Db::Postgres(pg) = self else {
            return Ok(None);
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            return Ok(None);
        }
        let types: HashMap<String, String> = self
            .query_map(
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = ?1",
                params![table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .into_iter()
            .collect();
        let bytea = columns
            .iter()
            .map(|c| types.get(c).is_some_and(|t| t == "bytea"))
            .collect();
        let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let sql = format!("COPY {table} ({}) FROM STDIN", names.join(", "));
        let mut client = pg.client_mut()?;
        let mut writer = client.copy_in(sql.as_str()).map_err(pg_error)?;
        let mut rows = CopyRows {
            out: &mut writer,
            buf: Vec::with_capacity(1 << 17),
            bytea,
            column: 0,
            rows: 0,
        };
        // On an error the writer is dropped unfinished, which aborts the COPY (and with it
        // the transaction it is part of).
        fill(&mut rows)?;
        rows.flush()?;
        let sent = rows.rows;
        let stored = writer.finish().map_err(pg_error)?;
        if stored != sent {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!("catalog copy: {sent} rows sent to {table}, {stored} stored"),
            ));
        }
        Ok(Some(stored))
    }

    /// Starts a write transaction: on SQLite an immediate one (it takes the write lock now, so
    /// it never has to upgrade a stale snapshot); on PostgreSQL read-committed, each source's
    /// rows then locked by [`Tx::lock_source`].
    pub(crate) fn begin_write(&self) -> Result<Tx<'_>> {
        self.batch(match self {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        })?;
        Ok(Tx {
            db: self,
            done: false,
        })
    }

    /// Starts a read-only transaction that sees one state of the catalog throughout.
    pub(crate) fn begin_read(&self) -> Result<Tx<'_>> {
        self.batch(match self {
            Db::Sqlite(_) => "BEGIN DEFERRED",
            Db::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })?;
        Ok(Tx {
            db: self,
            done: false,
        })
    }
}

/// A transaction; rolled back when dropped without [`Tx::commit`].
pub(crate) struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        self.db.batch("COMMIT")
    }

    /// Serialises writers of one source (a host, a switch, a region) across the collectors
    /// sharing a PostgreSQL catalog, until this transaction ends: the later one then reads
    /// what the earlier one wrote, and adds nothing twice. SQLite's write lock already
    /// serialises every writer.
    pub(crate) fn lock_source(&self, kind: &str, source: &str) -> Result<()> {
        if let Db::Postgres(_) = self.db {
            self.db.query_one(
                "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))) l",
                params![format!("{kind}\u{1f}{source}")],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

/// SQLite's query text in PostgreSQL's spelling: `?N` placeholders become `$N` (outside
/// string literals and quoted names).
pub(crate) fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            None => out.push(c),
        }
    }
    out
}

/// A migration's SQLite DDL as PostgreSQL's. The schema has one source, the migration files;
/// their SQLite types map one to one: `INTEGER` is a 64-bit integer (`bigint`), a table's
/// `id INTEGER PRIMARY KEY` an identity column (values given explicitly, as a catalog copy
/// does, are kept), `BLOB` is `bytea`, and `TEXT` compares byte by byte (`COLLATE "C"`), as
/// SQLite's BINARY collation does, so that ORDER BY gives the same order on both.
pub(crate) fn postgres_ddl(sql: &str) -> String {
    static RULES: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (r"--[^\n]*", ""),
            (
                r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b",
                "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            ),
            (r"\bINTEGER\b", "BIGINT"),
            (r"\bTEXT\b", "TEXT COLLATE \"C\""),
            (r"\bBLOB\b", "BYTEA"),
            // Words PostgreSQL reserves that the schema uses as column names.
            (r"\b(offset)\b", "\"$1\""),
        ]
        .into_iter()
        .map(|(re, to)| (regex::Regex::new(re).expect("valid rule"), to))
        .collect()
    });
    let mut out = sql.to_string();
    for (re, to) in rules {
        out = re.replace_all(&out, *to).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_outside_quotes_only() {
        assert_eq!(
            postgres_sql("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND \"?3\" = ?10"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND \"?3\" = $10"
        );
        assert_eq!(
            postgres_sql("SELECT 'it''s ?1', ?2"),
            "SELECT 'it''s ?1', $2"
        );
    }

    #[test]
    fn ddl_maps_types_and_keeps_the_rest() {
        let ddl = postgres_ddl(
            "CREATE TABLE t (\n    id INTEGER PRIMARY KEY, -- a comment with TEXT\n    \
             host_id INTEGER NOT NULL REFERENCES h(id),\n    name TEXT NOT NULL,\n    \
             tail BLOB,\n    offset INTEGER\n);",
        );
        assert_eq!(
            ddl,
            "CREATE TABLE t (\n    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \n    \
             host_id BIGINT NOT NULL REFERENCES h(id),\n    name TEXT COLLATE \"C\" NOT NULL,\n    \
             tail BYTEA,\n    \"offset\" BIGINT\n);"
        );
    }

    #[test]
    fn a_nul_in_text_is_stored_as_a_replacement_character() {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        let back: String = db
            .query_one("SELECT ?1", params!["a\0b"], |r| r.get(0))
            .unwrap();
        assert_eq!(back, "a\u{FFFD}b");
        let plain: String = db
            .query_one("SELECT ?1", params!["ab"], |r| r.get(0))
            .unwrap();
        assert_eq!(plain, "ab");
    }

    #[test]
    fn globs_become_anchored_regexes() {
        let re = |g: &str| regex::Regex::new(&glob_to_regex(g)).unwrap();
        for (glob, yes, no) in [
            (
                "openssl*",
                &["openssl", "openssl-dev"][..],
                &["libopenssl"][..],
            ),
            ("lib?.so", &["libc.so"], &["lib.so", "libcc.so"]),
            ("a.b", &["a.b"], &["axb"]),
            ("[ab]x", &["ax", "bx"], &["cx"]),
            ("[^ab]x", &["cx"], &["ax"]),
            ("[]]", &["]"], &["a"]),
            ("x+(y)|z$", &["x+(y)|z$"], &["xx(y)|z"]),
            ("[a", &[], &["[a", "a"]),
        ] {
            for s in yes {
                assert!(re(glob).is_match(s), "{glob} should match {s}");
            }
            for s in no {
                assert!(!re(glob).is_match(s), "{glob} should not match {s}");
            }
        }
    }
}
