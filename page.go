package quill

import (
	"slices"
	"strings"
)

// page returns the items that sort after nextToken's key, at most
// maxResults of them (1 to 100; 0 means 100), and the token of the next
// page ("" at the end). key orders the items and is what tokens carry.
// Every list operation pages this way, as QLDB's do.
func page[T any](items []T, key func(T) string, maxResults int, nextToken string) ([]T, string, error) {
	if maxResults == 0 {
		maxResults = 100
	}
	if maxResults < 1 || maxResults > 100 {
		return nil, "", invalidParam("MaxResults", "must be 1 to 100, got %d", maxResults)
	}
	after, err := decodeToken(nextToken)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	var out []T
	for _, it := range items {
		if nextToken != "" && key(it) <= after {
			continue
		}
		if len(out) == maxResults {
			return out, encodeToken(key(out[len(out)-1])), nil
		}
		out = append(out, it)
	}
	return out, "", nil
}
