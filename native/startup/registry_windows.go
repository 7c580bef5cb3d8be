//go:build windows

package startup

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// winRegistry is the current user's Run key.
type winRegistry struct{}

func localRegistry() Registry { return winRegistry{} }

func (winRegistry) SetRunValue(name, data string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue(name, data)
}

func (winRegistry) DeleteRunValue(name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
