import type { Services } from '../services';

/** Signup, login, sessions, profiles and the activity log. */
export class AccountService {
  constructor(private readonly services: Services) {}
}
