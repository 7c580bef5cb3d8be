//go:build !linux

package startup

// cronRunning cannot tell here; the registration goes ahead without a note.
func cronRunning() (bool, string) { return true, "not checked on this system" }
