package dbreport

import (
	"socialpredict/database/diagnostics"
)

// settings reads the server settings that matter, advised against this
// process's pool (see diagnostics.Advise): a value that looks wrong is a
// warning, with the documented reason.
func (b *builder) settings() {
	s := &b.r.Settings
	s.List = []diagnostics.Setting{}
	if b.unsupported(&s.Section) {
		return
	}
	list, err := diagnostics.Settings(b.ctx, b.src.DB.GormDB(), diagnostics.SettingsContext{
		PoolMaxOpen: b.src.DB.Config().ConnectionPool.MaxOpenConns})
	if b.failed(&s.Section, "settings", err) {
		return
	}
	s.List = list
	for _, st := range list {
		switch st.Status {
		case diagnostics.SettingWarn:
			b.r.add("settings", st.Name, StatusWarn, st.Name+" = "+st.Value+": "+st.Advice)
		case diagnostics.SettingInfo:
			b.r.add("settings", st.Name, StatusInfo, st.Name+" = "+st.Value+": "+st.Advice)
		}
	}
}
