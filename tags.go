package quill

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTagsPerResource is QLDB's documented tag limit per resource.
const MaxTagsPerResource = 50

func copyTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	return maps.Clone(tags)
}

// validateTags checks tag keys (1 to 128 characters, not starting with the
// reserved "aws:"), values (0 to 256 characters), and that existing plus
// new tags stay within MaxTagsPerResource.
func validateTags(tags map[string]string, existing int) error {
	for k, v := range tags {
		switch n := utf8.RuneCountInString(k); {
		case n < 1 || n > 128:
			return invalidParam("Tags", "tag key %q must be 1 to 128 characters", k)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return invalidParam("Tags", "tag key %q uses the reserved prefix aws:", k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return invalidParam("Tags", "the value of tag %q must be at most 256 characters", k)
		}
		if hasControl(k) || hasControl(v) {
			return invalidParam("Tags", "tag %q: keys and values must not contain control characters", k)
		}
	}
	if existing+len(tags) > MaxTagsPerResource {
		return invalidParam("Tags", "a resource can have at most %d tags", MaxTagsPerResource)
	}
	return nil
}

// ledgerNameFromARN returns the ledger an ARN of this DB names.
func (db *DB) ledgerNameFromARN(arn string) (string, error) {
	if len(arn) < 20 || len(arn) > 1600 {
		return "", invalidParam("ResourceArn", "must be 20 to 1600 characters")
	}
	prefix := fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/", db.opts.Region, db.opts.Account)
	if !strings.HasPrefix(arn, "arn:aws:qldb:") {
		return "", invalidParam("ResourceArn", "%q is not a QLDB ARN", arn)
	}
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || strings.Contains(name, "/") {
		return "", &Error{Code: CodeResourceNotFound, ResourceType: "LEDGER", ResourceName: arn,
			Message: "no such resource in region " + db.opts.Region + " and account " + db.opts.Account}
	}
	if err := ValidateLedgerName("ResourceArn", name); err != nil {
		return "", err
	}
	return name, nil
}

// TagResource adds or replaces tags on a ledger.
func (db *DB) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	name, err := db.ledgerNameFromARN(arn)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return invalidParam("Tags", "at least one tag is required")
	}
	_, err = db.updateLedger(ctx, name, func(rec *ledgerRecord) error {
		added := 0
		for k := range tags {
			if _, ok := rec.Tags[k]; !ok {
				added++
			}
		}
		if err := validateTags(tags, len(rec.Tags)+added-len(tags)); err != nil {
			return err
		}
		if rec.Tags == nil {
			rec.Tags = map[string]string{}
		}
		maps.Copy(rec.Tags, tags)
		return nil
	})
	return err
}

// UntagResource removes tags by key; absent keys are ignored.
func (db *DB) UntagResource(ctx context.Context, arn string, keys []string) error {
	name, err := db.ledgerNameFromARN(arn)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return invalidParam("TagKeys", "at least one tag key is required")
	}
	_, err = db.updateLedger(ctx, name, func(rec *ledgerRecord) error {
		for _, k := range keys {
			delete(rec.Tags, k)
		}
		return nil
	})
	return err
}

// ListTagsForResource returns a ledger's tags.
func (db *DB) ListTagsForResource(_ context.Context, arn string) (map[string]string, error) {
	name, err := db.ledgerNameFromARN(arn)
	if err != nil {
		return nil, err
	}
	rec, err := db.readLedger(name)
	if err != nil {
		return nil, err
	}
	out := copyTags(rec.Tags)
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

// hasControl reports whether s holds a control character (or invalid
// UTF-8), which AWS's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]* excludes.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
