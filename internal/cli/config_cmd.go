package cli

import (
	"github.com/spf13/cobra"

	"socialpredict/config"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration and where each value came from",
		Long: `Print every configuration key with its effective value and its source:
default, file (with line), env (with the variable) or derived (with the reason).
Passwords and other secrets are masked. Exits non-zero, listing every problem,
when the configuration is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load()
			if err != nil {
				return err
			}
			return cfg.Show(cmd.OutOrStdout())
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "reference",
		Short: "Print the Markdown reference of every key (as in the README)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return config.Reference(cmd.OutOrStdout())
		},
	})
	return cmd
}
