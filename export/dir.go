package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// path maps a key to a file under the directory, refusing keys that would
// leave it.
func (d DirSink) path(key string) (string, error) {
	if d.Dir == "" {
		return "", fmt.Errorf("%w: DirSink has no directory", ErrTargetRefused)
	}
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("export: key %q leaves the directory", key)
	}
	return filepath.Join(d.Dir, clean), nil
}

// writeFileAtomic writes a temporary file beside path, syncs it and renames
// it over path.
func writeFileAtomic(path string, body []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return dirError(err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return dirError(err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(body); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// dirError marks errors that retrying cannot fix as refusals.
func dirError(err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrTargetRefused, err)
	}
	return err
}

func readFile(path string) ([]byte, error) {
	return os.ReadFile(path) //nolint:gosec // the path is the sink's directory joined with a checked key
}
