// Package errs is the project's one error vocabulary: the sentinel errors
// every layer returns (match them with errors.Is), the typed errors that
// carry details (InputError naming a field, ConstraintError naming a
// constraint, UnavailableError saying whether an operation may have
// committed), and HTTPStatus, the one table that maps them to HTTP statuses.
// It imports nothing of the project, so every package can use it.
package errs
