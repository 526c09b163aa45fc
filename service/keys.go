package service

import (
	"context"
	"errors"
	"fmt"

	"socialpredict/dal"
	"socialpredict/errs"
	"socialpredict/models"
)

// CreateKey gives a user another API key and returns it with its secret,
// which is shown only here (only its hash is stored). errs.ErrNotFound for
// an unknown user.
func (s *UserService) CreateKey(ctx context.Context, userID int64) (*models.APIKey, string, error) {
	if _, err := s.dal.Users().GetByID(ctx, userID); err != nil {
		return nil, "", err
	}
	secret, err := newAPIKey()
	if err != nil {
		return nil, "", err
	}
	k := &models.APIKey{UserID: userID, KeyHash: hashKey(secret), KeyPrefix: secret[:8], CreatedAt: s.clock()}
	if err := s.dal.Users().CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// ListKeys returns the user's unrevoked API keys (their prefixes, never
// secrets).
func (s *UserService) ListKeys(ctx context.Context, userID int64) ([]*models.APIKey, error) {
	return s.dal.Users().ListAPIKeys(ctx, userID)
}

// RevokeKey revokes one of the user's keys: requests with it fail from now
// on. errs.ErrNotFound when the user has no such unrevoked key.
func (s *UserService) RevokeKey(ctx context.Context, userID, keyID int64) error {
	return s.dal.Users().RevokeAPIKey(ctx, userID, keyID, s.clock())
}

// Bootstrap is the result of EnsureAdmin.
type Bootstrap struct {
	// Admin is the first admin (created or found).
	Admin *models.User
	// Created says EnsureAdmin created it; Key is its new key's secret then
	// ("" when the key was given).
	Created bool
	Key     string
}

// EnsureAdmin creates the admin n (UserType is set to ADMIN) when the
// database has no admin yet, with the API key key when it is not empty
// (e.g. from the environment) or a new one. When an admin exists it
// changes nothing and returns it. Both run in one transaction.
func (s *UserService) EnsureAdmin(ctx context.Context, n NewUser, key string) (*Bootstrap, error) {
	n.UserType = models.UserTypeAdmin
	if err := n.validate(); err != nil {
		return nil, err
	}
	if key != "" && len(key) < 16 {
		return nil, invalid("admin key", "must be at least 16 characters")
	}
	var out *Bootstrap
	err := s.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		admin, err := tx.Users().FirstAdmin(ctx)
		if err == nil {
			out = &Bootstrap{Admin: admin}
			return nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		u, secret, err := (&UserService{s.withDAL(tx)}).create(ctx, n, key)
		if err != nil {
			return fmt.Errorf("create admin %q: %w", n.Username, err)
		}
		out = &Bootstrap{Admin: u, Created: true}
		if key == "" {
			out.Key = secret
		}
		return nil
	})
	return out, err
}
