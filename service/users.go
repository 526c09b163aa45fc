package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"unicode/utf8"

	"socialpredict/dal"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// UserService creates and authenticates users.
type UserService struct{ *base }

// NewUser is what it takes to create a user.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	// UserType defaults to REGULAR.
	UserType models.UserType
}

// maxUsernameLen is the longest username usernamePattern accepts.
const maxUsernameLen = 30

var usernamePattern = regexp.MustCompile(fmt.Sprintf(`^[a-z0-9_]{3,%d}$`, maxUsernameLen))

// validate checks every field and reports the first problem by field name.
func (n NewUser) validate() error {
	if err := checkText("display_name", n.DisplayName); err != nil {
		return err
	}
	if err := checkText("email", n.Email); err != nil {
		return err
	}
	switch {
	case !usernamePattern.MatchString(n.Username):
		return invalid("username", "must be 3-30 lower-case letters, digits or underscores")
	case utf8.RuneCountInString(n.DisplayName) < 1 || utf8.RuneCountInString(n.DisplayName) > 50:
		return invalid("display_name", "must be 1-50 characters")
	case len(n.Email) > 254:
		return invalid("email", "must be at most 254 characters")
	}
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
		return invalid("email", "must be a plain e-mail address such as name@example.com")
	}
	if n.UserType != "" && n.UserType != models.UserTypeAdmin && n.UserType != models.UserTypeRegular {
		return invalid("user_type", "must be ADMIN or REGULAR, got %q", n.UserType)
	}
	return nil
}

// apiKeyPrefix starts every API key, so that leaked keys are easy to find.
const apiKeyPrefix = "sp_"

// Create creates a user with the configured initial balance and an API key,
// in one transaction, and returns the user and the key. The key is shown
// only here: only its SHA-256 hash is stored. Errors: *errs.InputError for a bad
// field; errs.ErrConflict naming a taken username, display name or
// email.
func (s *UserService) Create(ctx context.Context, n NewUser) (*models.User, string, error) {
	if err := n.validate(); err != nil {
		return nil, "", err
	}
	return s.create(ctx, n, "")
}

// create creates the validated user with the key secret (a new one when
// empty), in one transaction.
func (s *UserService) create(ctx context.Context, n NewUser, secret string) (*models.User, string, error) {
	if n.UserType == "" {
		n.UserType = models.UserTypeRegular
	}
	if secret == "" {
		var err error
		if secret, err = newAPIKey(); err != nil {
			return nil, "", err
		}
	}
	now := s.clock()
	u := &models.User{Username: n.Username, DisplayName: n.DisplayName, Email: n.Email, UserType: n.UserType,
		InitialBalance: s.econ.InitialBalance, Balance: s.econ.InitialBalance, CreatedAt: now, UpdatedAt: now}
	err := s.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		if err := tx.Users().Create(ctx, u); err != nil {
			return err
		}
		return tx.Users().CreateAPIKey(ctx, &models.APIKey{UserID: u.ID, KeyHash: hashKey(secret), KeyPrefix: secret[:8], CreatedAt: now})
	})
	if err != nil {
		return nil, "", err
	}
	return u, secret, nil
}

// Get returns the user, or errs.ErrNotFound.
func (s *UserService) Get(ctx context.Context, id int64) (*models.User, error) {
	return s.dal.Users().GetByID(ctx, id)
}

// GetByUsername returns the user, or errs.ErrNotFound.
func (s *UserService) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	return s.dal.Users().GetByUsername(ctx, username)
}

// Leaderboard returns a page of users by balance, highest first (ties by
// id); page.Sort and page.Desc are set here.
func (s *UserService) Leaderboard(ctx context.Context, page repository.PageRequest) (repository.Page[*models.User], error) {
	page.Sort, page.Desc = "balance", true
	return s.dal.Users().List(ctx, repository.UserFilters{PageRequest: page})
}

// List returns a page of users (see repository.UserRepository.List).
func (s *UserService) List(ctx context.Context, f repository.UserFilters) (repository.Page[*models.User], error) {
	return s.dal.Users().List(ctx, f)
}

// Authenticate returns the user an API key belongs to, or
// errs.ErrUnauthenticated for an unknown or revoked key.
func (s *UserService) Authenticate(ctx context.Context, key string) (*models.User, error) {
	u, err := s.dal.Users().GetByAPIKeyHash(ctx, hashKey(key))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errs.ErrUnauthenticated
	}
	return u, err
}

// newAPIKey returns a fresh key: the prefix and 32 random bytes.
func newAPIKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashKey is the stored form of a key: SHA-256 in hex. Keys are random and
// long, so a fast hash is enough (no password stretching is needed).
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
