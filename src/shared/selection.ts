import { type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

const answers = new WeakMap<FieldNode, Map<string, boolean>>();

function selectsPath(selectionSet: SelectionSetNode | undefined, path: readonly string[], fragments: Record<string, FragmentDefinitionNode>): boolean {
  if (path.length === 0) return true;
  if (!selectionSet) return false;
  const [head, ...rest] = path;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === head && selectsPath(selection.selectionSet, rest, fragments)) return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsPath(selection.selectionSet, path, fragments)) return true;
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment && selectsPath(fragment.selectionSet, path, fragments)) return true;
    }
  }
  return false;
}

/**
 * Whether the current field's selection reaches `path` (e.g. edges.node.author), through
 * fragments too; remembered per field node, so a cached document asks once. Directives are
 * ignored: the answer may be yes for a field `@skip`ped at run time, which only costs a lookup.
 */
export function selects(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  const node = info.fieldNodes[0];
  const key = path.join('.');
  let known = answers.get(node);
  if (!known) answers.set(node, (known = new Map()));
  let answer = known.get(key);
  if (answer === undefined) {
    answer = info.fieldNodes.some((field) => selectsPath(field.selectionSet, path, info.fragments));
    known.set(key, answer);
  }
  return answer;
}
