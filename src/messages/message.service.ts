import type { Services } from '../services';

/** Sending, editing, deleting, voting, history and the recent-messages cache. */
export class MessageService {
  constructor(private readonly services: Services) {}
}
