package confkit

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxFileSize is the largest configuration file accepted, in bytes (1 MiB):
// a real configuration is a few kilobytes, and a larger file is a mistake
// that would only cost time and memory to report key by key.
const MaxFileSize = 1 << 20

// ErrFileTooLarge is matched (with errors.Is) by the error for a
// configuration larger than MaxFileSize. That error matches ErrInvalid too.
var ErrFileTooLarge = errors.New("configuration file too large")

// ReadFile returns the contents of the configuration file at path. A file
// larger than MaxFileSize is refused with an error matching ErrFileTooLarge
// and naming the file and the limit; it is never read whole: a regular file
// is refused from its size, anything else (a device, a pipe) once more than
// MaxFileSize bytes have been read. Other errors are the os package's.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, tooLarge(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

// tooLarge is the error for the configuration file name over MaxFileSize.
func tooLarge(name string) error {
	return fmt.Errorf("%w: %w: %s exceeds the limit of 1 MiB (%d bytes)", ErrInvalid, ErrFileTooLarge, name, MaxFileSize)
}
