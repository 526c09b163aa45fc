package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
)

// userRepository is the GORM UserRepository.
type userRepository struct{ db *database.DB }

// NewUserRepository returns the UserRepository on db (a pool, or a
// transaction the repository is bound to).
func NewUserRepository(db *database.DB) UserRepository {
	return &userRepository{db: db}
}

var userKeys = keyset[models.User]{
	name: "users",
	sorts: map[string]sortKey[models.User]{
		"created_at": {column: "created_at", kind: keyTime, value: func(u *models.User) any { return u.CreatedAt }},
		"username":   {column: "username", kind: keyString, value: func(u *models.User) any { return u.Username }},
		"balance":    {column: "balance", kind: keyInt, value: func(u *models.User) any { return u.Balance }},
	},
	defaultSort: "created_at",
	tieColumn:   "id",
	tie:         func(u *models.User) int64 { return u.ID },
	columns:     userColumns,
	scan:        scanUser,
}

func (r *userRepository) conn(ctx context.Context) *gorm.DB { return r.db.Conn(ctx) }

func (r *userRepository) Create(ctx context.Context, user *models.User) error {
	normalizeUser(user)
	return TranslateError(r.conn(ctx).Create(user).Error)
}

func (r *userRepository) GetByID(ctx context.Context, id int64) (*models.User, error) {
	var u models.User
	if err := r.conn(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, notFound(err, "user", id)
	}
	return &u, nil
}

func (r *userRepository) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	var u models.User
	if err := r.conn(ctx).Where("username = ?", username).Take(&u).Error; err != nil {
		return nil, notFound(err, "user", username)
	}
	return &u, nil
}

func (r *userRepository) Update(ctx context.Context, user *models.User) error {
	res := r.conn(ctx).Model(&models.User{ID: user.ID}).
		Select("display_name", "email", "user_type", "updated_at").
		Updates(map[string]any{"display_name": user.DisplayName, "email": user.Email, "user_type": user.UserType,
			"updated_at": r.db.Now()})
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: user %d", errs.ErrNotFound, user.ID)
	}
	return nil
}

func (r *userRepository) Delete(ctx context.Context, id int64) error {
	res := r.conn(ctx).Where("id = ?", id).Delete(&models.User{})
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: user %d", errs.ErrNotFound, id)
	}
	return nil
}

func (r *userRepository) List(ctx context.Context, f UserFilters) (Page[*models.User], error) {
	q := r.conn(ctx).Model(&models.User{})
	switch f.UserType {
	case "":
	case models.UserTypeAdmin, models.UserTypeRegular:
		q = q.Where("user_type = ?", f.UserType)
	default:
		return Page[*models.User]{}, fmt.Errorf("%w: user type: unknown %q", errs.ErrInvalidInput, f.UserType)
	}
	if err := checkFilterText("username_prefix", f.UsernamePrefix); err != nil {
		return Page[*models.User]{}, err
	}
	if err := checkFilterText("search", f.Search); err != nil {
		return Page[*models.User]{}, err
	}
	if err := checkTimeRange("created", f.CreatedAfter, f.CreatedBefore); err != nil {
		return Page[*models.User]{}, err
	}
	if f.UsernamePrefix != "" {
		// Case-sensitive on both engines (SQLite's LIKE ignores case; GLOB
		// does not, and uses the index for a prefix too).
		if q.Dialector.Name() == database.DriverPostgres {
			q = q.Where(`username LIKE ? ESCAPE '\'`, prefixPattern(f.UsernamePrefix))
		} else {
			q = q.Where("username GLOB ?", globPrefix(f.UsernamePrefix))
		}
	}
	if f.Search != "" {
		p := containsPattern(f.Search)
		q = q.Where(`(lower(username) LIKE ? ESCAPE '\' OR lower(display_name) LIKE ? ESCAPE '\')`, p, p)
	}
	q = timeRange(q, "created_at", f.CreatedAfter, f.CreatedBefore)
	return userKeys.page(q, f.PageRequest, f)
}

func (r *userRepository) CreateBatch(ctx context.Context, users []*models.User) error {
	for _, u := range users {
		normalizeUser(u)
	}
	return createBatch(ctx, r.db, users)
}

func (r *userRepository) AddToBalance(ctx context.Context, userID, delta, floor int64) (int64, error) {
	var balance []int64
	err := r.conn(ctx).Raw(`UPDATE users SET balance = balance + ?, updated_at = ?
		WHERE id = ? AND balance + ? >= ? RETURNING balance`,
		delta, r.db.Now(), userID, delta, floor).Scan(&balance).Error
	if err != nil {
		return 0, TranslateError(err)
	}
	if len(balance) == 0 {
		if _, err := r.GetByID(ctx, userID); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w: user %d", errs.ErrInsufficientCredits, userID)
	}
	return balance[0], nil
}

func (r *userRepository) AdjustBalances(ctx context.Context, deltas []BalanceDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	payload, err := json.Marshal(deltas)
	if err != nil {
		return err
	}
	conn := r.conn(ctx)
	sql := `UPDATE users SET balance = balance + d.delta, updated_at = ?
		FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.delta') AS delta FROM json_each(?)) AS d
		WHERE users.id = d.id`
	if conn.Dialector.Name() == database.DriverPostgres {
		sql = `UPDATE users AS u SET balance = u.balance + d.delta, updated_at = ?
			FROM jsonb_to_recordset(?::jsonb) AS d(id bigint, delta bigint)
			WHERE u.id = d.id`
	}
	res := conn.Exec(sql, r.db.Now(), string(payload))
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected != int64(len(deltas)) {
		return fmt.Errorf("%w: %d of %d users to adjust exist (or a user is listed twice)", errs.ErrNotFound, res.RowsAffected, len(deltas))
	}
	return nil
}

// normalizeUser stores times in UTC, so that they sort as text on SQLite.
func normalizeUser(u *models.User) {
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
}

func (r *userRepository) CreateAPIKey(ctx context.Context, key *models.APIKey) error {
	key.CreatedAt = key.CreatedAt.UTC()
	return TranslateError(r.conn(ctx).Create(key).Error)
}

func (r *userRepository) GetByAPIKeyHash(ctx context.Context, hash string) (*models.User, error) {
	var u models.User
	err := r.conn(ctx).Where("id = (SELECT user_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL)", hash).Take(&u).Error
	if err != nil {
		return nil, notFound(err, "user with API key", "(hash)")
	}
	return &u, nil
}

func (r *userRepository) ListAPIKeys(ctx context.Context, userID int64) ([]*models.APIKey, error) {
	var keys []*models.APIKey
	err := r.conn(ctx).Where("user_id = ? AND revoked_at IS NULL", userID).Order("id").Find(&keys).Error
	return keys, TranslateError(err)
}

func (r *userRepository) RevokeAPIKey(ctx context.Context, userID, keyID int64, at time.Time) error {
	res := r.conn(ctx).Model(&models.APIKey{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", keyID, userID).
		Update("revoked_at", at.UTC())
	if res.Error != nil {
		return TranslateError(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: API key %d of user %d", errs.ErrNotFound, keyID, userID)
	}
	return nil
}

func (r *userRepository) FirstAdmin(ctx context.Context) (*models.User, error) {
	var u models.User
	if err := r.conn(ctx).Where("user_type = ?", models.UserTypeAdmin).Order("id").Take(&u).Error; err != nil {
		return nil, notFound(err, "user of type", models.UserTypeAdmin)
	}
	return &u, nil
}
