// Fields whose value depends on who is asking, marked where they are defined. The mark is a
// TypeGraphQL field extension, so it lands in the built schema (`field.extensions.viewer`):
// realtime/delivery.ts reads it to decide whether one rendering of an event can serve every
// subscriber of a document, and test/per-viewer-fields.test.ts fails on a field that reads
// the viewer without it. Imports nothing of the features.
import type { GraphQLField } from 'graphql';
import { Extensions } from 'type-graphql';

/** The extension key of the mark. */
export const VIEWER_EXTENSION = 'viewer';

/** How a field uses the viewer. */
export enum ViewerUse {
  /** Its value differs from one viewer to the next: an event selecting it is rendered for each subscriber. */
  Value = 'value',
  /**
   * It reads the viewer only to check that they may see the value (null or an error
   * otherwise), and the value is the same for everyone who may. Subscribers of one stream all
   * passed the stream's own access check, so an event selecting it is still rendered once
   * for all of them.
   */
  AccessCheck = 'accessCheck',
}

/**
 * Marks a field (a `@Field` property or a `@FieldResolver`) whose value depends on the viewer,
 * e.g. `Channel.unreadCount`, `Message.myVote`, `reactedByMe`. Put it next to `@Field`/`@FieldResolver`.
 */
export function PerViewer(): MethodDecorator & PropertyDecorator {
  return Extensions({ [VIEWER_EXTENSION]: ViewerUse.Value });
}

/** Marks a field that reads the viewer for an access check only (see ViewerUse.AccessCheck). */
export function ViewerAccessCheck(): MethodDecorator & PropertyDecorator {
  return Extensions({ [VIEWER_EXTENSION]: ViewerUse.AccessCheck });
}

/** The mark of a field of the built schema, if any. */
export function viewerUse(field: Pick<GraphQLField<unknown, unknown>, 'extensions'>): ViewerUse | null {
  const use = field.extensions?.[VIEWER_EXTENSION];
  return use === ViewerUse.Value || use === ViewerUse.AccessCheck ? use : null;
}

/** True for a field whose value differs between viewers (an event selecting it cannot be shared). */
export function isPerViewerField(field: Pick<GraphQLField<unknown, unknown>, 'extensions'>): boolean {
  return viewerUse(field) === ViewerUse.Value;
}
