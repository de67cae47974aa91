// Package partiql is the PartiQL subset QLDB applications use: a lexer, a
// parser to an AST, and an executor that plans access paths and evaluates
// statements against a [Store]. It knows nothing of storage: the root
// package implements Store over its OCC transactions, so every statement
// runs inside one.
//
// # The subset
//
// CREATE/DROP/UNDROP TABLE, CREATE INDEX, DROP INDEX ... WITH (purge =
// true); INSERT INTO t VALUE v | << v, ... >> | ? (a struct or a list of
// structs); SELECT [VALUE] with projections, aliases, x.*, AT, BY, WHERE,
// INNER JOIN ... ON, cross joins, nested SELECT as a source or in IN,
// committed views (_ql_committed_t), history(t | 'tableId' [, start [,
// end]]) and information_schema.user_tables; UPDATE ... SET / REMOVE /
// INSERT INTO path VALUE v [AT k] and the FROM-DML forms; DELETE; the
// aggregates COUNT, SUM, AVG, MIN, MAX (without GROUP BY) and the
// functions COALESCE, NULLIF, EXISTS, SIZE, CHAR_LENGTH, LOWER, UPPER,
// SUBSTRING, TRIM, UTCNOW, TO_TIMESTAMP (Ion text, no format patterns),
// TO_STRING (Ion text, no format patterns), DATE_ADD, DATE_DIFF, EXTRACT,
// CAST. Anything else fails to parse with an [Error] that quotes the
// token, never runs with a different meaning.
//
// # Semantics
//
// Values are Ion values or MISSING. = compares numbers by value (1 = 1.0),
// strings and symbols by text, timestamps by instant, containers element
// by element (struct fields in any order) and requires equal annotations;
// comparisons with null or MISSING are unknown, and WHERE keeps only rows
// whose condition is true. A path into a value of the wrong kind is
// MISSING (PartiQL's permissive mode); arithmetic on non-numbers is an
// error. Names are case-sensitive; keywords are not. An unqualified name
// is a variable if one is bound, else a field of the FROM items' values.
//
// # Access paths
//
// For each table in FROM the executor reads, in this order of preference:
// the one document named by BY v where a conjunct of WHERE (or ON) is
// v = e; the documents an index finds where a conjunct is t.f = e or
// t.f IN (e1, e2) (f a top-level field, or data.f of a committed view) and
// e is a string or a bool (numbers and timestamps compare by value, which
// no exact index key covers, so they scan); else a scan. e may use
// parameters, literals and the variables of earlier FROM items, so an
// INNER JOIN on an indexed field is an index nested-loop join. Conditions
// are always evaluated again on what is read: the access path changes
// what is read, never the answer.
package partiql
