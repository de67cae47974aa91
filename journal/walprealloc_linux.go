package journal

import "golang.org/x/sys/unix"

// Preallocate reserves space for a log file the way Pebble asks (in chunks
// of a little more than a memtable), but also extends the file's size over
// it. Pebble reserves with FALLOC_FL_KEEP_SIZE, so until a log file is
// recycled every write grows the file and every fdatasync must also write
// the inode's new size: measured on this project's machine (ext4), a log
// sync of one commit took ~195 µs against ~165 µs with the size already
// there, and one writer committed 13-15% more transactions a second. Pebble
// reads a log's zeroed tail as its end (it expects one from preallocation
// and recycling): the newest log's as an unclean end, which recovery
// accepts; older logs end with an EOF trailer before it. If the filesystem
// cannot do it, the reservation is Pebble's own.
func (f *watchedLog) Preallocate(offset, length int64) error {
	if fd := f.Fd(); fd != ^uintptr(0) {
		if err := unix.Fallocate(int(fd), 0, offset, length); err == nil {
			return nil
		}
	}
	return f.File.Preallocate(offset, length)
}
