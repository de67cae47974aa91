package quill

import (
	"strings"
)

// partiQLReserved holds the PartiQL reserved words QLDB refuses as table
// names (case-insensitive); the list is PartiQL's SQL-92 core and QLDB's
// own keywords.
var partiQLReserved = func() map[string]bool {
	words := strings.Fields(`ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT
	AUTHORIZATION AVG BAG BEGIN BETWEEN BIT BIT_LENGTH BLOB BOOL BOOLEAN BOTH BY CASCADE CASCADED CASE CAST
	CATALOG CHAR CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE COLLATION COLUMN
	COMMIT CONNECT CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS
	CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DATE_ADD DATE_DIFF DAY
	DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS
	DISCONNECT DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION EXEC EXECUTE EXISTS
	EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO GOTO GRANT GROUP
	HAVING HOUR IDENTITY IMMEDIATE IN INDEX INDICATOR INITIALLY INNER INPUT INSENSITIVE INSERT INT INTEGER
	INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST LEADING LEFT LEVEL LIKE LIMIT LIST LOCAL
	LOWER MATCH MAX MIN MINUTE MISSING MODULE MONTH NAMES NATIONAL NATURAL NCHAR NEXT NO NOT NULL NULLIF
	NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT OVERLAPS PAD PARTIAL PIVOT POSITION
	PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE PUBLIC READ REAL REFERENCES RELATIVE
	REMOVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECOND SECTION SELECT SESSION SESSION_USER SET
	SEXP SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE STRING STRUCT SUBSTRING SUM SYMBOL
	SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO TO_STRING
	TO_TIMESTAMP TRAILING TRANSACTION TRANSLATE TRANSLATION TRIM TRUE TUPLE TXID UNDROP UNION UNIQUE
	UNKNOWN UNPIVOT UPDATE UPPER USAGE USER USING UTCNOW VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER
	WHERE WITH WORK WRITE YEAR ZONE`)
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()

// validateTableName checks QLDB's table name rule: 1 to 128 letters,
// digits and underscores, starting with a letter or underscore, not a
// PartiQL reserved word.
func validateTableName(name string) error {
	switch {
	case len(name) < 1 || len(name) > 128:
		return invalidParam("TableName", "must be 1 to 128 characters, got %d", len(name))
	case !isIdentifierName(name):
		return invalidParam("TableName", "%q must be letters, digits and underscores, starting with a letter or underscore", name)
	case partiQLReserved[strings.ToUpper(name)]:
		return invalidParam("TableName", "%q is a PartiQL reserved word", name)
	}
	return nil
}

// validateFieldName checks an indexed or looked-up top-level field name.
func validateFieldName(name string) error {
	if len(name) < 1 || len(name) > 128 || !isIdentifierName(name) {
		return invalidParam("Field", "%q must be 1 to 128 letters, digits and underscores, starting with a letter or underscore", name)
	}
	return nil
}

func isIdentifierName(s string) bool {
	for i := range len(s) {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
