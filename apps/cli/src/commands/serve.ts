import { startControlServer } from "@musicfs/rpc";
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = "Serve the control API (gRPC and Connect) for orchestrators and players, without a mount.";
  static override description = `Serves proto/musicfs/v1 MusicfsService on [control] listen (default 127.0.0.1:50052) until
interrupted (Ctrl-C, SIGTERM): GetMetadata, UpdateMetadata (orchestrator writes, which always win),
ClearOverride, ListAlbums, Search, GetStatus, WatchEvents. gRPC clients use plaintext HTTP/2; Connect
clients (curl, browsers) may use HTTP/1.1 or HTTP/2 on the same port. \`musicfs mount\` and
\`musicfs enrich --daemon\` serve the same API themselves; run \`serve\` only when neither runs.

Listening off loopback needs [control] token; clients then send "authorization: Bearer <token>".

Prints "serving control API at <url>" on stdout once listening.
Exit codes: 0 stopped by a signal, 2 config error (e.g. off-loopback without a token), 3 database error,
5 the address is in use (another musicfs serves it).`;
  static override examples = [
    "<%= config.bin %> serve",
    "<%= config.bin %> serve --listen 127.0.0.1:6000",
    `curl -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:50052/musicfs.v1.MusicfsService/GetStatus`,
  ];
  static override flags = {
    listen: Flags.string({ description: "host:port to listen on (default [control] listen)." }),
  };

  public async run(): Promise<void> {
    const config = this.musicfsConfig;
    const server = await startControlServer(
      { lib: this.openLibrary(), log: this.logger, provider: config.metadata_provider },
      { listen: this.flags.listen ?? config.control.listen, token: config.control.token },
    );
    process.stdout.write(`serving control API at ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        this.logger.info({ signal }, "stopping the control API");
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await server.close();
  }
}
