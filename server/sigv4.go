package server

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LoadKeys reads an access-key file for Options.Keys: one key per line,
// "ACCESS_KEY_ID SECRET_ACCESS_KEY", blank lines and lines starting with #
// ignored.
func LoadKeys(path string) (map[string]string, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"ACCESS_KEY_ID SECRET_ACCESS_KEY\"", path, n)
		}
		keys[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", path)
	}
	return keys, nil
}

const sigAlgorithm = "AWS4-HMAC-SHA256"

func authError(typ, msg string) error { return apiError(http.StatusForbidden, typ, msg) }

// verifySignature checks a SigV4 signature with service name qldb the way
// AWS computes it for non-S3 services (the escaped path is escaped again),
// with the payload hash computed from the body.
func (h *Handler) verifySignature(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return authError("MissingAuthenticationTokenException", "the request is not signed; this server requires SigV4")
	}
	rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
	if !ok {
		return authError("IncompleteSignatureException", "the Authorization header is not "+sigAlgorithm)
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" || parts["SignedHeaders"] == "" || parts["Signature"] == "" {
		return authError("IncompleteSignatureException", "the Authorization header lacks Credential, SignedHeaders or Signature")
	}
	keyID, day, region, service := cred[0], cred[1], cred[2], cred[3]
	secret, known := h.opts.Keys[keyID]
	if !known {
		return authError("UnrecognizedClientException", "the access key id is not known to this server")
	}
	if want := map[bool]string{true: "dynamodb", false: "qldb"}[isDynamoDB(r)]; service != want {
		return authError("InvalidSignatureException", "the credential scope's service must be "+want+", got "+service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, day) {
		return authError("IncompleteSignatureException", "X-Amz-Date is missing or does not match the credential scope")
	}
	if skew := h.opts.Clock().Sub(t); skew > h.opts.MaxClockSkew || skew < -h.opts.MaxClockSkew {
		return authError("InvalidSignatureException", "the request time is too far from the server's clock")
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") {
		return authError("InvalidSignatureException", "the host header must be signed")
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payloadHash {
		return authError("InvalidSignatureException", "X-Amz-Content-Sha256 does not match the body")
	}
	canonical := strings.Join([]string{
		r.Method,
		escapePath(requestPath(r)),
		canonicalQuery(r.URL.RawQuery),
		canonicalHeaders(r, signed),
		parts["SignedHeaders"],
		payloadHash,
	}, "\n")
	scope := strings.Join(cred[1:], "/")
	crHash := sha256.Sum256([]byte(canonical))
	toSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return authError("InvalidSignatureException", "the request signature does not match the signature computed with the access key's secret")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// requestPath is the path exactly as the client sent it, still escaped.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || !strings.HasPrefix(p, "/") {
		return r.URL.EscapedPath()
	}
	return p
}

// escapePath percent-encodes every byte but the unreserved ones and '/'.
func escapePath(p string) string { return escape(p, true) }

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// escape percent-encodes every byte but the unreserved ones (and '/' when
// keepSlash), as SigV4's canonical forms do.
func escape(s string, keepSlash bool) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func canonicalQuery(raw string) string {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return ""
	}
	var pairs []string
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, escape(k, false)+"="+escape(v, false))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var value string
		switch name {
		case "host":
			value = r.Host
		case "content-length":
			value = r.Header.Get("Content-Length")
			if value == "" {
				value = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			value = strings.Join(r.Header.Values(name), ",")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(strings.Fields(value), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
