//go:build !windows

package startup

// localRegistry is nil: only Windows has a registry.
func localRegistry() Registry { return nil }
