// Package peers adds the peer engines of Quill's benchmark harness: the
// immudb v1.11.1 embedded store and Tessera v1.0.4 with its POSIX driver.
//
// It is a separate Go module so that Quill's own go.mod never requires
// immudb, whose Business Source License 1.1 allows benchmarking but not
// shipping it with Quill. Run the peers with:
//
//	cd bench/peers && go run ./cmd/peerbench commit -clients 1,64
package peers
