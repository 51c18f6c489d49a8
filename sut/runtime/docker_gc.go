package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/moby/moby/client"
)

// GCOwned removes the containers and networks labelled faultline=1 whose
// faultline.owner label names an owner that gone reports gone: the leftovers
// of runs whose checker died, and never those of a campaign still running.
// Resources without an owner label (made before owners were recorded, or by
// a caller that gave none) are kept and counted in unowned; GC removes
// everything. only, when not empty, narrows the resources to one more label
// ("key=value"). Images are left alone: a live campaign may be about to use
// one.
func GCOwned(ctx context.Context, log *slog.Logger, gone func(owner string) bool, only string) (removed []string, unowned int, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := newDockerClient()
	if err != nil {
		return nil, 0, err
	}
	defer cli.Close()
	filters := make(client.Filters).Add("label", LabelFaultline+"=1")
	if only != "" {
		filters = filters.Add("label", only)
	}
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return nil, 0, fmt.Errorf("list containers: %w", err)
	}
	campaigns := map[string]bool{} // campaign label -> owner gone
	for _, c := range ctrs.Items {
		owner := c.Labels[LabelOwner]
		if owner == "" {
			unowned++
			continue
		}
		campaigns[c.Labels[LabelCampaign]] = gone(owner)
	}
	var errs []error
	for _, campaign := range sortedKeys(campaigns) {
		if !campaigns[campaign] {
			continue
		}
		r, err := removeLabelled(ctx, cli, log, LabelCampaign+"="+campaign)
		removed = append(removed, r...)
		errs = append(errs, err)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
	if err != nil {
		return removed, unowned, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, nw := range nets.Items {
		owner := nw.Labels[LabelOwner]
		if owner == "" {
			unowned++
			continue
		}
		if !gone(owner) {
			continue
		}
		if _, err := cli.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, err))
			continue
		}
		log.Info("gc: removed network", "network", nw.Name, "owner", owner)
		removed = append(removed, "network/"+nw.Name)
	}
	return removed, unowned, errors.Join(errs...)
}
