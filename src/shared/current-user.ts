import { createParameterDecorator } from 'type-graphql';
import { type RequestContext, requireViewer } from './context';

/** The signed-in viewer; UNAUTHENTICATED without a valid token. */
export function CurrentUser() {
  return createParameterDecorator<RequestContext>(({ context }) => requireViewer(context));
}

/** The viewer when signed in, otherwise null (for queries that answer anonymous callers). */
export function OptionalUser() {
  return createParameterDecorator<RequestContext>(({ context }) => context.viewer);
}
