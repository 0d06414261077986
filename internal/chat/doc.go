// Package chat is Switchboard's domain: the tenants, people, conversations and
// messages of a support chat, and the rules that govern them.
//
// It is pure on purpose. Nothing here does I/O or imports another internal
// package, so every rule can be tested with tables of values, and every edge
// (stores, HTTP, bots) depends on this package rather than on each other.
package chat
