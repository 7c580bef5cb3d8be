//go:build !windows

package state

// privateMode is how a file written with mode 0600 (nodeman.cfg, which
// holds the node's private key) reads back.
const privateMode = 0o600
