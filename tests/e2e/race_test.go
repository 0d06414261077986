//go:build race

package e2e

// raceBuild makes the binary under test carry the race detector whenever the
// tests themselves do (as in CI), without requiring cgo on a plain go test.
const raceBuild = true
