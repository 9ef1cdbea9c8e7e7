import { MusicfsError, systemClock } from "@musicfs/core";
import type { EnrichmentService, MetadataProvider } from "@musicfs/enrich";
import { keepYoungGenerationSmall, type LazyEnricher, mountLibrary } from "@musicfs/fs";
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Mount extends BaseCommand<typeof Mount> {
  static override summary = "Mount the library read-only at MOUNTPOINT: Artists/, Genres/, Labels/, Years/ and Files/.";
  static override description = `Serves the scanned library over FUSE until interrupted (Ctrl-C, SIGTERM) or unmounted with
\`musicfs umount MOUNTPOINT\`; runs in the foreground (use \`&\` or a systemd unit to background it).
The tree comes from the database and follows it: a \`musicfs scan\` or \`musicfs enrich\` in another
process shows up within [mount] refresh_ms. Files whose metadata was enriched are served with those
tags written into their header (FLAC and MP3); audio bytes always come from the origin unchanged.
Nothing is ever written: every write answers "Read-only file system".

With [metadata_provider] enabled = true, opening or listing a file that is not enriched yet queues
a lookup of its album in the background (one per album); access never waits for it.

Prints "mounted <database> at <mountpoint>" on stdout once the mount is ready, then "serving control
API at <url>" once the control API ([control] listen) answers too.

Exit codes: 0 unmounted cleanly, 2 usage or config error, 3 database error, 6 mount failed
(stale mount, mount point missing or not empty: the message says how to fix it).`;
  static override examples = [
    "<%= config.bin %> mount ~/Music-view",
    "<%= config.bin %> mount /mnt/music --allow-other &   # for a media server running as another user",
    "<%= config.bin %> mount ~/Music-view --force         # clear a stale mount left by a crash first",
  ];
  static override args = { mountpoint: Args.string({ description: "An empty directory to mount on.", required: true }) };
  static override flags = {
    force: Flags.boolean({ description: "Unmount whatever is mounted at MOUNTPOINT first (e.g. a stale mount after a crash)." }),
    "allow-other": Flags.boolean({
      description: "Let other users read the mount (default [mount] allow_other; non-root needs user_allow_other in /etc/fuse.conf).",
      allowNo: true,
    }),
    foreground: Flags.boolean({
      description: "Stay in the foreground (the only mode; background it with `&` or systemd).",
      default: true,
      allowNo: true,
    }),
  };

  public async run(): Promise<void> {
    if (!this.flags.foreground) {
      throw new MusicfsError("USAGE", "musicfs mount always runs in the foreground; start it with `&` or from a systemd unit");
    }
    keepYoungGenerationSmall();
    const config = this.musicfsConfig;
    const lib = this.openLibrary();
    // design §4.3.6 / G3: the queue and its worker exist only when the provider is enabled.
    let enrichment: EnrichmentService | undefined;
    let enricher: LazyEnricher | undefined;
    let provider: MetadataProvider | undefined;
    if (config.metadata_provider.enabled) {
      // Loaded only when enabled: the gRPC client stack is a good part of the start-up time.
      const { createEnrichmentService, createProvider } = await import("@musicfs/enrich");
      provider = createProvider(config.metadata_provider);
      const service = createEnrichmentService({ lib, provider, clock: systemClock, log: this.logger }, config.metadata_provider);
      enrichment = service;
      // 'duplicate' and 'ineligible' are answers too; only a full queue means "ask again next time".
      enricher = { tryPush: (request) => service.queue.tryPush(request) !== "dropped" };
    }
    let mounted: Awaited<ReturnType<typeof mountLibrary>>;
    try {
      mounted = await mountLibrary({ lib, config, log: this.logger, enricher }, this.args.mountpoint, {
        force: this.flags.force,
        allowOther: this.flags["allow-other"] ?? config.mount.allow_other,
      });
    } catch (err) {
      provider?.close();
      throw err;
    }
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        // A second Ctrl-C while unmounting: give up waiting, the lazy unmount finishes on its own.
        process.stderr.write(`musicfs: ${signal} again, exiting\n`);
        process.exit(130);
      }
      this.logger.info({ signal }, "unmounting");
      mounted.unmount().catch((err: unknown) => {
        process.stderr.write(`musicfs: ${(err as Error).message}\n`);
        process.exit(1);
      });
    };
    // From here on a signal unmounts: never leave a mount behind, even while the control API is starting.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let control: Awaited<ReturnType<typeof this.startControlApi>>;
    try {
      if (enrichment) {
        // The worker writes through this process's connection: show its results without waiting for the next tick.
        enrichment.events.on("fileModified", () => mounted.refresh());
        enrichment.start();
      }
      process.stdout.write(`mounted ${this.dbPath} at ${mounted.mountpoint}\n`);
      try {
        // /metrics: the design's enrichment metrics (when enabled) plus FUSE and scan figures. Loaded once
        // the mount answers: nothing before "mounted" waits for the metrics stack.
        const [{ Registry, registerMountMetrics }, { registerScanMetrics }] = await Promise.all([
          import("@musicfs/fs/metrics"),
          import("@musicfs/scan/metrics"),
        ]);
        const registry = enrichment?.metrics.registry ?? new Registry();
        registerMountMetrics(registry, () => mounted.stats());
        registerScanMetrics(registry, lib);
        control = await this.startControlApi({
          lib,
          enrichment,
          provider: config.metadata_provider,
          metricsRegistry: registry,
          resolveVirtualPath: (path) => mounted.view.fileIdAt(path),
        });
      } catch (err) {
        // Whatever fails once mounted, the mount does not outlive the process.
        await mounted.unmount();
        throw err;
      }
      if (control) {
        // Orchestrator writes (UpdateMetadata, ClearOverride) land on this connection too: serve them at once.
        control.events.on("fileModified", () => mounted.refresh());
        process.stdout.write(`serving control API at ${control.url}\n`);
      }
      await mounted.closed;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await control?.close();
      await enrichment?.stop(false);
      provider?.close();
    }
    this.logger.info({ mountpoint: mounted.mountpoint }, "unmounted");
  }
}
