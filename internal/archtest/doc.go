// Package archtest holds the test that keeps Quill's package layering as
// docs/architecture.md draws it. It has no code of its own.
package archtest
