package ui

import (
	"errors"
	"io/fs"
	"strconv"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/state"
)

// uninstall removes what the install in dir wrote, exactly as the
// uninstall command does: the directory's checks, its lock, then the
// manifest-driven removal.
func uninstall(dir string) (*state.Uninstalled, error) {
	if err := state.CheckDir(dir); err != nil {
		return nil, err
	}
	lock, err := state.LockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	return state.Uninstall(dir)
}

// uninstallMessage words an uninstall for the window.
func uninstallMessage(dir string, u *state.Uninstalled, err error) *bridge.Uninstalled {
	m := &bridge.Uninstalled{Kept: []string{}, Actions: []string{ActionClose}}
	if u != nil {
		m.Kept = append(m.Kept, u.Kept...)
	}
	removed := 0
	if u != nil {
		removed = len(u.Removed)
	}
	var locked *state.LockedError
	var unsafe *state.UnsafeDirError
	switch {
	case err == nil:
		m.OK, m.Title = true, "Uninstalled"
		m.Message = "Seattle was removed from " + dir + " (" + strconv.Itoa(removed) + " files and folders)."
		if len(m.Kept) > 0 {
			m.Message += " Files added since the install were kept; they are listed in the log below."
		}
		m.Next = "You can close this window, or install again."
		m.Actions = []string{ActionTryAgain, ActionClose, ActionOpenFolder}
	case errors.Is(err, state.ErrKeptLinks):
		m.Title = "Partly uninstalled"
		m.Message = "Some entries in " + dir + " were kept because something other than the installer changed them, and removing them could reach outside that folder. They are listed in the log below."
		m.Next = "Look at them, and remove them yourself if they are yours."
		m.Actions = []string{ActionOpenFolder, ActionClose}
	case errors.Is(err, state.ErrNotInstalled), errors.Is(err, fs.ErrNotExist):
		m.Title = "Nothing to uninstall"
		m.Message = "There is no Seattle install in " + dir + "."
		m.Actions = []string{ActionTryAgain, ActionClose}
	case errors.As(err, &locked):
		m.Title = "The installer is busy"
		m.Message = "Another install or uninstall is working in " + dir + " right now. Nothing was touched."
		m.Next = "Wait until it has finished, then try again."
	case errors.As(err, &unsafe):
		m.Title = "Not uninstalled"
		m.Message = "Other users of this computer could change the folder " + dir + ", so the installer, running as an administrator, will not remove anything there."
	default:
		m.Title = "Not fully uninstalled"
		m.Message = "Removing the install from " + dir + " stopped after " + strconv.Itoa(removed) + " of its files and folders."
		m.Next = "Try Uninstall again; what is left is removed then."
		m.Actions = []string{ActionUninstall, ActionClose}
	}
	return m
}
