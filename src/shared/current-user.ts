import { createParameterDecorator } from 'type-graphql';
import type { RequestContext, Viewer } from './context';
import { UnauthenticatedError } from './errors';

/** The signed-in viewer; UNAUTHENTICATED without a valid token. */
export function CurrentUser() {
  return createParameterDecorator<RequestContext>(({ context }) => requireViewer(context));
}

/** The viewer when signed in, otherwise null (for queries that answer anonymous callers). */
export function OptionalUser() {
  return createParameterDecorator<RequestContext>(({ context }) => context.viewer);
}

export function requireViewer(context: RequestContext): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}
