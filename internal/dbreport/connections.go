package dbreport

import (
	"fmt"

	"socialpredict/database/diagnostics"
)

// connections reads the server's connections against max_connections.
func (b *builder) connections() {
	r, c := b.r, &b.r.Connections
	c.Pool = r.Pool
	if b.unsupported(&c.Section) {
		return
	}
	rep, err := diagnostics.Connections(b.ctx, b.src.DB.GormDB())
	if b.failed(&c.Section, "connections", err) {
		return
	}
	c.Server = rep
	usable := rep.MaxConnections - rep.Reserved
	msg := fmt.Sprintf("%d client connections of %d usable (max_connections %d less %d reserved for superusers): %.0f%%",
		rep.Total, usable, rep.MaxConnections, rep.Reserved, rep.UsedPct)
	if rep.UsedPct >= b.opts.ConnectionsPct {
		r.add("connections", "server_connections", StatusWarn, msg+fmt.Sprintf("; above %.0f%%, new connections will soon be refused: look for idle ones below, lower the pools or add a pooler", b.opts.ConnectionsPct))
		return
	}
	r.add("connections", "server_connections", StatusOK, msg)
}
