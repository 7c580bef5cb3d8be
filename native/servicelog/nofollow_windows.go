//go:build windows

package servicelog

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openNoFollow is O_NOFOLLOW for Windows: the file is opened with
// FILE_FLAG_OPEN_REPARSE_POINT, which opens a symbolic link or a junction
// itself instead of what it points to, and the handle is refused when it
// is one (or a directory). Checking the open handle leaves no moment in
// which a link swapped in could be followed. It knows the two opens the
// service log makes: O_RDONLY, and O_WRONLY|O_CREATE|O_APPEND.
func openNoFollow(p string, flag int, perm os.FileMode) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	access, disposition := uint32(windows.GENERIC_READ), uint32(windows.OPEN_EXISTING)
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		access = windows.FILE_APPEND_DATA | windows.FILE_READ_ATTRIBUTES | windows.SYNCHRONIZE
		if flag&os.O_APPEND == 0 {
			return nil, fmt.Errorf("open %s: the service log is only appended to", p)
		}
	}
	if flag&os.O_CREATE != 0 {
		disposition = windows.OPEN_ALWAYS
	}
	h, err := windows.CreateFile(name, access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		disposition, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		if err == windows.ERROR_FILE_NOT_FOUND || err == windows.ERROR_PATH_NOT_FOUND {
			err = fs.ErrNotExist
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		windows.CloseHandle(h)
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if err := refuseAttributes(p, info.FileAttributes); err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return os.NewFile(uintptr(h), p), nil
}

// refuseAttributes says why a file with these attributes is not one the
// service log is read from or written to.
func refuseAttributes(p string, attrs uint32) error {
	switch {
	case attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		return fmt.Errorf("%s is a symbolic link, a junction or another reparse point: the service log is not read or written through it", p)
	case attrs&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
		return fmt.Errorf("%s is a directory: the service log is not read or written through it", p)
	}
	return nil
}
