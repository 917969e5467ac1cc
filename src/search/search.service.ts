import type { MessageSnapshot } from '../domain/snapshots';
import { BadUserInputError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { type Connection, decodeCursor, encodeCursor, pageSize } from '../shared/relay';
import type { SqlPool } from '../shared/sql';
import { authoredSnapshot } from '../messages/message.queries';
import { parseSearch, websearchText } from './search.parser';
import { searchMessages } from './search.queries';

export interface SearchArgs {
  query: string;
  first?: number | null;
  after?: string | null;
}

/** Search cursors carry the hit's place in (created_at desc, id desc): microseconds and id. */
const SEARCH_CURSOR = 'search';
const CURSOR_PAYLOAD = /^(\d{1,17}):([0-9a-f-]{36})$/;

export function searchCursor(createdUs: string, id: string): string {
  return encodeCursor(SEARCH_CURSOR, `${createdUs}:${id}`);
}

function decodeSearchCursor(cursor: string): { createdUs: string; id: string } {
  const match = CURSOR_PAYLOAD.exec(decodeCursor(SEARCH_CURSOR, cursor, 'after'));
  if (!match || !isUuid(match[2])) throw new BadUserInputError('after', 'after is not a valid cursor.');
  return { createdUs: match[1], id: match[2] };
}

/** searchMessages: the query language (search.parser.ts) over what the viewer may read, newest first. */
export class SearchService {
  constructor(private readonly sql: SqlPool) {}

  async search(viewerId: string, args: SearchArgs): Promise<Connection<MessageSnapshot>> {
    const size = pageSize(args.first, 'first');
    const after = args.after != null ? decodeSearchCursor(args.after) : null;
    const parsed = parseSearch(args.query);
    const rows = parsed.impossible
      ? []
      : await searchMessages(this.sql, {
          viewerId,
          words: websearchText(parsed.terms),
          authorKey: parsed.from,
          channelName: parsed.in,
          since: parsed.since,
          until: parsed.until,
          after,
          limit: size + 1,
        });
    const edges = rows.slice(0, size).map((row) => ({ cursor: searchCursor(row.created_us, row.id), node: authoredSnapshot(row) }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > size,
        hasPreviousPage: after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }
}
