//go:build windows

package linktest

import "unsafe"

// unsafePointer turns the address wine_get_version returns (a C string in
// ntdll.dll, which is never unloaded) into a pointer.
func unsafePointer(p uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&p))
}
