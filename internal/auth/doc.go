// Package auth holds Switchboard's credential primitives: agent passwords,
// API keys, session and CSRF tokens, the installation's secret key and the
// subkeys derived from it. It knows nothing of the store or of HTTP routing;
// the HTTP layer combines these pieces with the store into middleware.
//
// Every client-facing failure is a *chat.Error whose message never contains
// the secret that was presented.
package auth
