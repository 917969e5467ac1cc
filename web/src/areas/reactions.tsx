// Reactions (the conversations area): emoji groups under a message; a click adds or removes
// the viewer's reaction, optimistically. Other members get the change as MessageUpdated.
import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { graphql } from '../gql';

export const ReactionFields = graphql(`
  fragment ReactionFields on Message {
    reactions {
      emoji
      count
      reactedByMe
    }
  }
`);

const AddReactionMutation = graphql(`
  mutation AddReaction($messageId: ID!, $emoji: String!) {
    addReaction(messageId: $messageId, emoji: $emoji) {
      id
      ...ReactionFields
    }
  }
`);

const RemoveReactionMutation = graphql(`
  mutation RemoveReaction($messageId: ID!, $emoji: String!) {
    removeReaction(messageId: $messageId, emoji: $emoji) {
      id
      ...ReactionFields
    }
  }
`);

/** The palette the picker offers (any single emoji or :shortcode: is accepted by the API). */
const PALETTE = ['👍', '❤️', '😂', '🎉', '👀', '🙏'];

type Group = { __typename: 'ReactionGroup'; emoji: string; count: number; reactedByMe: boolean };

// region reactions
/** The groups after the viewer toggles `emoji`: what the server will answer, shown at once. */
function toggled(groups: readonly Group[], emoji: string): Group[] {
  const existing = groups.find((group) => group.emoji === emoji);
  if (!existing) return [...groups, { __typename: 'ReactionGroup', emoji, count: 1, reactedByMe: true }];
  const count = existing.count + (existing.reactedByMe ? -1 : 1);
  return groups.flatMap((group) => (group.emoji !== emoji ? [group] : count === 0 ? [] : [{ ...group, count, reactedByMe: !group.reactedByMe }]));
}

export function Reactions({ message }: { message: { id: string; reactions: readonly Group[] } }) {
  const [add] = useMutation(AddReactionMutation);
  const [remove] = useMutation(RemoveReactionMutation);
  const [picking, setPicking] = useState(false);

  const toggle = (emoji: string) => {
    setPicking(false);
    const mine = message.reactions.some((group) => group.emoji === emoji && group.reactedByMe);
    const optimisticResponse = { __typename: 'Message' as const, id: message.id, reactions: toggled(message.reactions, emoji) };
    const variables = { messageId: message.id, emoji };
    const done = mine ? remove({ variables, optimisticResponse: { removeReaction: optimisticResponse } }) : add({ variables, optimisticResponse: { addReaction: optimisticResponse } });
    void done.catch(() => undefined);
  };
  // endregion reactions

  return (
    <div className="reactions" data-testid="reactions">
      {message.reactions.map((group) => (
        <button type="button" key={group.emoji} className={group.reactedByMe ? 'on' : ''} onClick={() => toggle(group.emoji)} data-testid="reaction" data-emoji={group.emoji}>
          {group.emoji} <span>{group.count}</span>
        </button>
      ))}
      <span className="picker">
        <button type="button" aria-label="Add a reaction" onClick={() => setPicking(!picking)} data-testid="add-reaction">
          ☺+
        </button>
        {picking &&
          PALETTE.map((emoji) => (
            <button type="button" key={emoji} onClick={() => toggle(emoji)} data-testid="pick-reaction" data-emoji={emoji}>
              {emoji}
            </button>
          ))}
      </span>
    </div>
  );
}
